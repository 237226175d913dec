// Checks for the JSON text editors (event type schemas, headers): a message naming the
// line and column of a syntax error, and a light check that a JSON Schema is one.

/** jsonError is null for valid JSON, else where and why it is not. */
export function jsonError(text: string): string | null {
  try {
    JSON.parse(text)
    return null
  } catch (e) {
    const msg = (e as Error).message
    const m = /position (\d+)/.exec(msg)
    if (!m) return 'is not valid JSON: ' + msg
    const pos = Number(m[1])
    const before = text.slice(0, pos)
    const line = before.split('\n').length
    const col = pos - before.lastIndexOf('\n')
    return `is not valid JSON at line ${line}, column ${col}`
  }
}

const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'])

/** schemaProblems lists what makes a value not a usable JSON Schema (a light check; the server compiles it). */
export function schemaProblems(v: unknown, path = ''): string[] {
  const out: string[] = []
  if (typeof v === 'boolean') return out
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`${path || 'the schema'} must be an object`]
  const s = v as Record<string, unknown>
  const t = s.type
  const types = Array.isArray(t) ? t : t === undefined ? [] : [t]
  for (const x of types) if (typeof x !== 'string' || !TYPES.has(x)) out.push(`${path || 'type'}: "${String(x)}" is not a JSON Schema type`)
  if (s.properties !== undefined) {
    if (typeof s.properties !== 'object' || s.properties === null || Array.isArray(s.properties)) out.push(`${path}properties must be an object`)
    else for (const [k, sub] of Object.entries(s.properties)) out.push(...schemaProblems(sub, `${path}properties.${k}.`))
  }
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((x) => typeof x !== 'string')))
    out.push(`${path}required must be a list of property names`)
  if (s.items !== undefined) out.push(...schemaProblems(s.items, `${path}items.`))
  return out
}
