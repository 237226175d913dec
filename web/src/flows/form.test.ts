import { describe, expect, it } from 'vitest'
import { checkConfig, isSecret, parseValueText, valueText } from './form'
import type { NodeSchema } from './types'

describe('value fields', () => {
  const cases: [string, boolean, ReturnType<typeof parseValueText>][] = [
    ['', true, { value: undefined }],
    ['  ', false, { value: undefined }],
    ['{"a": 1}', false, { value: { a: 1 } }],
    ['[1, 2]', true, { value: [1, 2] }],
    ['12.5', true, { value: 12.5 }],
    ['true', true, { value: true }],
    ['"quoted"', true, { value: 'quoted' }],
    ['{{event@properties.price}}', true, { value: '{{event@properties.price}}' }],
    ['Hello there', true, { value: 'Hello there' }],
    ['Infinity', true, { value: 'Infinity' }],
  ]
  for (const [text, textAllowed, want] of cases) it(JSON.stringify(text) + (textAllowed ? ' (text allowed)' : ''), () => expect(parseValueText(text, textAllowed)).toEqual(want))
  it('refuses broken JSON where text is not allowed, or where it looks like JSON', () => {
    expect(parseValueText('Hello', false)).toHaveProperty('error')
    expect(parseValueText('{"a": }', true)).toHaveProperty('error')
    expect(parseValueText('[1,', true)).toHaveProperty('error')
  })
  it('shows text as it is and the rest as JSON', () => {
    expect(valueText(undefined)).toBe('')
    expect(valueText('{{x}}')).toBe('{{x}}')
    expect(valueText({ a: 1 })).toBe('{\n  "a": 1\n}')
    expect(valueText(0)).toBe('0')
  })
})

describe('secrets', () => {
  it('masks fields named or marked as credentials', () => {
    expect(isSecret('password', {})).toBe(true)
    expect(isSecret('api_key', {})).toBe(true)
    expect(isSecret('apiKey', {})).toBe(true)
    expect(isSecret('salt', {})).toBe(true)
    expect(isSecret('auth_token', {})).toBe(true)
    expect(isSecret('anything', { writeOnly: true })).toBe(true)
    expect(isSecret('anything', { format: 'password' })).toBe(true)
    expect(isSecret('segment', {})).toBe(false)
    expect(isSecret('counter', { type: 'string' })).toBe(false)
  })
})

describe('checkConfig', () => {
  const schema: NodeSchema = {
    type: 'object',
    required: ['counter'],
    properties: {
      counter: { type: 'string', pattern: '^(?:[A-Za-z0-9_-]{1,100})$' },
      by: { type: 'number', minimum: 0, maximum: 10 },
      mode: { type: 'string', enum: ['a', 'b'] },
      set: { type: 'object' },
    },
  }
  it('names each top-level field with its first problem', () => {
    expect(checkConfig(schema, {})).toEqual({ counter: 'is required' })
    expect(checkConfig(schema, { counter: 'a b', by: 11, mode: 'c' })).toEqual({
      counter: 'has the wrong form',
      by: 'must be at most 10',
      mode: 'must be one of a, b',
    })
    expect(checkConfig(schema, { counter: 'ok', by: 2, set: { 'profile@x': 1 } })).toEqual({})
  })
})
