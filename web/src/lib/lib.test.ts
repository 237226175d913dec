import { describe, expect, it } from 'vitest'
import { matchPath, pathWith, safeNext, appPath } from './router'
import { offsetOf, positioned, withoutField } from './errors'
import { defaults, getPath, setPath, validate, type Schema } from './schema'
import { merge3 } from './merge'
import { buckets, fmtTotal, RANGES } from './format'
import { jsonError, schemaProblems } from './jsonedit'
import { timeline } from './timeline'
import { curlExample, trackSnippet } from './snippets'
import type { Event, Session } from '../api/types'

describe('router', () => {
  it.each([
    ['/profiles/:id', '/profiles/abc', { id: 'abc' }],
    ['/profiles/:id', '/profiles/a%20b', { id: 'a b' }],
    ['/profiles/:id', '/profiles', null],
    ['/profiles/:id', '/profiles/a/b', null],
    ['/', '/', {}],
    ['/config/:kind/:id', '/config/rules/new', { kind: 'rules', id: 'new' }],
    ['/profiles/:id', '/profiles/%E0%A4%A', null],
  ])('matchPath(%s, %s)', (pattern, path, want) => {
    expect(matchPath(pattern, path)).toEqual(want)
  })
  it('fills patterns, encoded', () => {
    expect(pathWith('/profiles/:id', { id: 'a/b' })).toBe('/profiles/a%2Fb')
  })
  it.each([
    ['/gui', '/'],
    ['/gui/', '/'],
    ['/gui/profiles/x', '/profiles/x'],
  ])('appPath(%s)', (p, want) => expect(appPath(p)).toBe(want))
  it.each([
    [null, '/'],
    ['/events?x=1', '/events?x=1'],
    ['//evil.example', '/'],
    ['https://evil.example', '/'],
    ['/\\evil', '/'],
  ])('safeNext(%s) keeps the user in the app', (n, want) => expect(safeNext(n)).toBe(want))
})

describe('API errors', () => {
  it('reads the parser position', () => {
    expect(positioned("line 2, col 5: expected value after '=='")).toEqual({ line: 2, col: 5, message: "expected value after '=='" })
    expect(positioned('name: is required')).toBeNull()
  })
  it('maps line and column to an offset', () => {
    expect(offsetOf('ab\ncd == ', 2, 4)).toBe(6)
    expect(offsetOf('x', 3, 1)).toBe(1)
  })
  it('drops the field prefix', () => {
    expect(withoutField('webhook.url: must be http(s)', 'webhook.url')).toBe('must be http(s)')
    expect(withoutField('something else', 'name')).toBe('something else')
  })
})

describe('schema forms', () => {
  const schema: Schema = {
    type: 'object',
    required: ['name', 'webhook'],
    properties: {
      name: { type: 'string', maxLength: 5 },
      kind: { type: 'string', enum: ['a', 'b'], default: 'a' },
      enabled: { type: 'boolean', default: true },
      limit: { type: 'integer', minimum: 1 },
      tags: { type: 'array', items: { type: 'string', minLength: 1 } },
      webhook: { type: 'object', required: ['url'], properties: { url: { type: 'string', pattern: '^https?://' } } },
      mapping: { type: 'array', items: { type: 'object', required: ['to'], properties: { to: { type: 'string' } } } },
    },
  }
  it.each([
    [{ name: 'ok', webhook: { url: 'https://x' } }, {}],
    [{}, { name: 'is required', webhook: 'is required' }],
    [{ name: 'too long', webhook: { url: 'ftp://x' } }, { name: 'must be at most 5 characters', 'webhook.url': 'has the wrong form' }],
    [{ name: 'x', kind: 'c', webhook: {} }, { kind: 'must be one of a, b', 'webhook.url': 'is required' }],
    [{ name: 'x', limit: 0.5, webhook: { url: 'http://x' } }, { limit: 'must be a whole number' }],
    [{ name: 'x', limit: 0, webhook: { url: 'http://x' } }, { limit: 'must be at least 1' }],
    [{ name: 'x', tags: ['', 'a'], webhook: { url: 'http://x' } }, { 'tags[0]': 'must not be empty' }],
    [{ name: 'x', mapping: [{ to: 'a' }, {}], webhook: { url: 'http://x' } }, { 'mapping[1].to': 'is required' }],
  ])('validate(%j)', (value, want) => {
    expect(validate(schema, value)).toEqual(want)
  })
  it('builds defaults', () => {
    expect(defaults(schema)).toEqual({ kind: 'a', enabled: true, tags: [], webhook: {}, mapping: [] })
  })
  it('reads and writes paths without changing the original', () => {
    const v = { a: { b: [{ c: 1 }] } }
    const w = setPath(v, 'a.b[0].c', 2)
    expect(getPath(w, 'a.b[0].c')).toBe(2)
    expect(getPath(v, 'a.b[0].c')).toBe(1)
    expect(getPath(setPath(v, 'x.y', 'z'), 'x.y')).toBe('z')
    expect(getPath(setPath(v, 'a.b', undefined), 'a')).toEqual({})
  })
})

describe('reload and merge after a 409', () => {
  const base = { name: 'n', condition: 'a', description: 'd', tags: ['x'], version: 1 }
  it('keeps both sides when they changed different fields', () => {
    const mine = { ...base, condition: 'mine' }
    const theirs = { ...base, description: 'theirs', version: 2 }
    expect(merge3(base, mine, theirs)).toEqual({ merged: { ...base, condition: 'mine', description: 'theirs', version: 2 }, conflicts: [] })
  })
  it('reports fields both changed and keeps the user value', () => {
    const mine = { ...base, name: 'mine' }
    const theirs = { ...base, name: 'theirs', version: 3 }
    expect(merge3(base, mine, theirs)).toEqual({ merged: { ...mine, version: 3 }, conflicts: ['name'] })
  })
  it('merges nested objects field by field', () => {
    const b = { webhook: { url: 'u', method: 'POST' }, version: 1 }
    const r = merge3(b, { ...b, webhook: { url: 'mine', method: 'POST' } }, { webhook: { url: 'u', method: 'PUT' }, version: 2 })
    expect(r.merged).toEqual({ webhook: { url: 'mine', method: 'PUT' }, version: 2 })
  })
  it('takes a field the user removed', () => {
    const mine: Record<string, unknown> = { ...base }
    delete mine.description
    expect(merge3(base, mine, { ...base, version: 2 }).merged).not.toHaveProperty('description')
  })
})

describe('reports', () => {
  it('every dashboard range stays under the 2000 buckets the API allows', () => {
    for (const r of RANGES) expect(buckets(r.range, r.interval)).toBeLessThanOrEqual(2000)
  })
})

describe('JSON editors', () => {
  it('names where JSON breaks', () => {
    expect(jsonError('{"a": 1}')).toBeNull()
    expect(jsonError('{\n  "a": ,\n}')).toBe('is not valid JSON at line 2, column 8: expected a value')
    expect(jsonError('{"a": 1,}')).toBe('is not valid JSON at line 1, column 9: expected a property name in double quotes')
    expect(jsonError('[1, 2')).toBe('is not valid JSON at line 1, column 6: expected , or ]')
    expect(jsonError('{"a": "x\\q"}')).toBe('is not valid JSON at line 1, column 9: bad escape')
    expect(jsonError('{} x')).toBe('is not valid JSON at line 1, column 4: unexpected text after the value')
    expect(jsonError('{"a": [true, null, -1.5e3, "\\u00e9"]}')).toBeNull()
  })
  it('checks a JSON Schema lightly', () => {
    expect(schemaProblems({ type: 'object', properties: { n: { type: 'number' } }, required: ['n'] })).toEqual([])
    expect(schemaProblems({ type: 'obj' })).toEqual(['type: "obj" is not a JSON Schema type'])
    expect(schemaProblems({ properties: { n: { type: 'text' } } })).toEqual(['properties.n.type: "text" is not a JSON Schema type'])
    expect(schemaProblems([])).toEqual(['the schema must be an object'])
    expect(schemaProblems({ required: 'n' })).toEqual(['required must be a list of property names'])
  })
})

describe('profile timeline', () => {
  const ev = (id: string, session: string, t: string) => ({ id, type: 'page-view', session: { id: session }, metadata: { time: { insert: t } } }) as unknown as Event
  const ses = (id: string, t: string) => ({ id, profile: { id: 'p' }, metadata: { time: { insert: t } } }) as Session
  it('groups events under sessions, newest first, keeping sessions without events and events without a stored session', () => {
    const g = timeline(
      [ses('s1', '2026-01-01T10:00:00Z'), ses('s2', '2026-01-02T10:00:00Z'), ses('s3', '2026-01-03T10:00:00Z')],
      [ev('e1', 's1', '2026-01-01T10:01:00Z'), ev('e2', 's1', '2026-01-04T09:00:00Z'), ev('e3', 's2', '2026-01-02T10:05:00Z'), ev('e4', 'gone', '2026-01-05T00:00:00Z')],
    )
    expect(g.map((x) => x.sessionId)).toEqual(['gone', 's1', 's3', 's2'])
    expect(g[1].events.map((e) => e.id)).toEqual(['e2', 'e1'])
    expect(g[2].events).toEqual([])
  })
})

describe('source snippets', () => {
  it('loads the tracker from the origin and names the source', () => {
    const s = trackSnippet('https://cdp.example.com', "web'x")
    expect(s).toContain("'https://cdp.example.com/tracker.js'")
    expect(s).toContain(`thamesthrive('init', {source: "web'x"})`)
  })
  it('sends to /track for rest sources and /collect for webhooks', () => {
    expect(curlExample('http://h', 'web', 'rest')).toMatch(/curl -X POST 'http:\/\/h\/track'[\s\S]*"source": \{"id": "web"\}/)
    expect(curlExample('http://h', 'hook', 'webhook')).toContain("'http://h/collect/purchase/hook'")
  })
})

describe('fmtTotal', () => {
  it('marks a total the search stopped counting at', () => {
    expect(fmtTotal(10000, 'gte')).toBe('10,000+')
    expect(fmtTotal(9999, 'eq')).toBe('9,999')
    expect(fmtTotal(3)).toBe('3')
  })
})
