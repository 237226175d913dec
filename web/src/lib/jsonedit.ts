// Checks for the JSON text editors (event type schemas, headers): a message naming the
// line and column of a syntax error (JSON.parse does not say where in every browser),
// and a light check that a JSON Schema is one.

class SyntaxAt extends Error {
  constructor(
    public pos: number,
    msg: string,
  ) {
    super(msg)
  }
}

/** jsonError is null for valid JSON, else where and why it is not. */
export function jsonError(text: string): string | null {
  try {
    let i = value(text, ws(text, 0))
    i = ws(text, i)
    if (i < text.length) throw new SyntaxAt(i, 'unexpected text after the value')
    return null
  } catch (e) {
    if (!(e instanceof SyntaxAt)) throw e
    const before = text.slice(0, e.pos)
    const line = before.split('\n').length
    const col = e.pos - before.lastIndexOf('\n')
    return `is not valid JSON at line ${line}, column ${col}: ${e.message}`
  }
}

function ws(s: string, i: number): number {
  while (i < s.length && ' \t\n\r'.includes(s[i])) i++
  return i
}

function value(s: string, i: number): number {
  const c = s[i]
  if (c === '{') {
    i = ws(s, i + 1)
    if (s[i] === '}') return i + 1
    for (;;) {
      if (s[i] !== '"') throw new SyntaxAt(i, 'expected a property name in double quotes')
      i = ws(s, str(s, i))
      if (s[i] !== ':') throw new SyntaxAt(i, 'expected :')
      i = ws(s, value(s, ws(s, i + 1)))
      if (s[i] === '}') return i + 1
      if (s[i] !== ',') throw new SyntaxAt(i, 'expected , or }')
      i = ws(s, i + 1)
    }
  }
  if (c === '[') {
    i = ws(s, i + 1)
    if (s[i] === ']') return i + 1
    for (;;) {
      i = ws(s, value(s, i))
      if (s[i] === ']') return i + 1
      if (s[i] !== ',') throw new SyntaxAt(i, 'expected , or ]')
      i = ws(s, i + 1)
    }
  }
  if (c === '"') return str(s, i)
  for (const lit of ['true', 'false', 'null']) if (s.startsWith(lit, i)) return i + lit.length
  const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i))
  if (m && m[0] !== '' && m[0] !== '-') return i + m[0].length
  throw new SyntaxAt(i, 'expected a value')
}

function str(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s[i]
    if (c === '"') return i + 1
    if (c === '\n' || c < ' ') throw new SyntaxAt(i, 'unterminated string')
    if (c === '\\') {
      const n = s[i + 1]
      if (n === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) throw new SyntaxAt(i, 'bad \\u escape')
        i += 5
      } else if (n !== undefined && '"\\/bfnrt'.includes(n)) i++
      else throw new SyntaxAt(i, 'bad escape')
    }
  }
  throw new SyntaxAt(i, 'unterminated string')
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
  for (const x of types) if (typeof x !== 'string' || !TYPES.has(x)) out.push(`${path || ''}type: "${String(x)}" is not a JSON Schema type`)
  if (s.properties !== undefined) {
    if (typeof s.properties !== 'object' || s.properties === null || Array.isArray(s.properties)) out.push(`${path}properties must be an object`)
    else for (const [k, sub] of Object.entries(s.properties)) out.push(...schemaProblems(sub, `${path}properties.${k}.`))
  }
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((x) => typeof x !== 'string')))
    out.push(`${path}required must be a list of property names`)
  if (s.items !== undefined) out.push(...schemaProblems(s.items, `${path}items.`))
  return out
}
