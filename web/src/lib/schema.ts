// A JSON Schema subset for the GUI's forms: the forms are rendered from a schema and
// validated against it before anything is sent, with errors keyed by the same field
// paths the API's 400 answers name (a.b[0].c).

export interface Schema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array'
  title?: string
  description?: string
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  enum?: (string | number)[]
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  pattern?: string
  minItems?: number
  maxItems?: number
  default?: unknown
  /** GUI hints, ignored by validation. */
  'x-widget'?: 'textarea' | 'condition' | 'json' | 'password' | 'tags' | 'code'
  'x-readonly-after-create'?: boolean
  readOnly?: boolean
}

export type Errors = Record<string, string>

export function validate(schema: Schema, value: unknown, path = '', errs: Errors = {}): Errors {
  const at = path || '(document)'
  if (value === undefined || value === null) {
    return errs
  }
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errs[at] = 'must be an object'
        break
      }
      const obj = value as Record<string, unknown>
      for (const r of schema.required ?? []) {
        const v = obj[r]
        if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0 && schema.properties?.[r]?.minItems)) {
          errs[join(path, r)] = 'is required'
        }
      }
      for (const [k, sub] of Object.entries(schema.properties ?? {})) {
        // An empty text field is a field left out, not a value to check.
        if (!errs[join(path, k)] && obj[k] !== '') validate(sub, obj[k], join(path, k), errs)
      }
      break
    }
    case 'array': {
      if (!Array.isArray(value)) {
        errs[at] = 'must be a list'
        break
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) errs[at] = `needs at least ${schema.minItems}`
      if (schema.maxItems !== undefined && value.length > schema.maxItems) errs[at] = `at most ${schema.maxItems}`
      if (schema.items) value.forEach((v, i) => validate(schema.items!, v, `${path}[${i}]`, errs))
      break
    }
    case 'string': {
      if (typeof value !== 'string') {
        errs[at] = 'must be text'
        break
      }
      if (schema.minLength !== undefined && value.length < schema.minLength)
        errs[at] = schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`
      else if (schema.maxLength !== undefined && value.length > schema.maxLength) errs[at] = `must be at most ${schema.maxLength} characters`
      else if (schema.enum && !schema.enum.includes(value)) errs[at] = `must be one of ${schema.enum.join(', ')}`
      else if (schema.pattern && !new RegExp(schema.pattern).test(value)) errs[at] = 'has the wrong form'
      break
    }
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || Number.isNaN(value)) {
        errs[at] = 'must be a number'
        break
      }
      if (schema.type === 'integer' && !Number.isInteger(value)) errs[at] = 'must be a whole number'
      else if (schema.minimum !== undefined && value < schema.minimum) errs[at] = `must be at least ${schema.minimum}`
      else if (schema.maximum !== undefined && value > schema.maximum) errs[at] = `must be at most ${schema.maximum}`
      break
    }
    case 'boolean':
      if (typeof value !== 'boolean') errs[at] = 'must be true or false'
      break
  }
  return errs
}

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}

/** defaults builds a value holding every default of the schema. */
export function defaults(schema: Schema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default)
  if (schema.type === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, sub] of Object.entries(schema.properties ?? {})) {
      const d = defaults(sub)
      if (d !== undefined) out[k] = d
    }
    return out
  }
  if (schema.type === 'array') return []
  return undefined
}

/** getPath and setPath read and write a.b[0].c in plain JSON values. */
export function getPath(v: unknown, path: string): unknown {
  for (const k of keys(path)) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}

export function setPath<T>(root: T, path: string, value: unknown): T {
  const ks = keys(path)
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string, unknown>
  let cur = copy
  for (let i = 0; i < ks.length - 1; i++) {
    const next = cur[ks[i]]
    const c = Array.isArray(next) ? [...next] : { ...((next as object) ?? {}) }
    cur[ks[i]] = c
    cur = c as Record<string, unknown>
  }
  if (value === undefined) delete cur[ks[ks.length - 1]]
  else cur[ks[ks.length - 1]] = value
  return copy as T
}

function keys(path: string): string[] {
  return path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '')
}
