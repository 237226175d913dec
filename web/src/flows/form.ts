// Helpers of the node config form that are worth testing on their own.
import { validate, type Schema } from '../lib/schema'
import type { NodeSchema } from './types'

const secretName = /(password|passwd|secret|token|api[_-]?key|private[_-]?key|salt)/i

/** isSecret says whether a config field holds a credential, shown masked. */
export function isSecret(name: string, s: NodeSchema): boolean {
  return Boolean(s.writeOnly || s['x-secret'] || s.format === 'password' || secretName.test(name))
}

/** valueText is how a JSON-ish field shows its value: text as it is, the rest as JSON. */
export function valueText(v: unknown): string {
  if (v === undefined) return ''
  if (typeof v === 'string') return v
  return JSON.stringify(v, null, 2)
}

/**
 * parseValueText reads such a field: empty is no value, JSON is its value; when text is
 * allowed anything else is a string, otherwise it is an error with its position.
 */
export function parseValueText(text: string, textAllowed: boolean): { value: unknown } | { error: string } {
  const t = text.trim()
  if (t === '') return { value: undefined }
  try {
    const v: unknown = JSON.parse(t)
    if (textAllowed && typeof v === 'number' && !/^-?\d/.test(t)) return { value: text }
    return { value: v }
  } catch (e) {
    if (textAllowed && (!/^[[{"]/.test(t) || t.startsWith('{{'))) return { value: text } // a template is text
    return { error: 'Not valid JSON: ' + (e as Error).message }
  }
}

/** checkConfig validates a node's config against its schema in the browser, by field. */
export function checkConfig(schema: NodeSchema, config: Record<string, unknown>): Record<string, string> {
  const errs = validate(schema as Schema, config)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(errs)) out[k.split(/[.[]/)[0]] ??= v
  return out
}
