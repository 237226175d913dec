// Reload-and-merge after a 409 (someone saved a newer version meanwhile): the user's
// edits are re-applied on top of the newer stored document, field by field, and the
// fields both sides changed are reported so the form can point at them.

type Json = unknown

export interface MergeResult<T> {
  merged: T
  conflicts: string[]
}

function isObj(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * merge3 merges mine (the user's edit of base) into theirs (the newer stored version).
 * A field only the user changed takes the user's value; a field only they changed
 * keeps theirs; a field both changed differently takes the user's value and is listed
 * as a conflict. version always comes from theirs.
 */
export function merge3<T>(base: T, mine: T, theirs: T, path = ''): MergeResult<T> {
  const conflicts: string[] = []
  const out = walk(base, mine, theirs, path, conflicts)
  if (isObj(out) && isObj(theirs) && 'version' in theirs) out.version = theirs.version
  return { merged: out as T, conflicts }
}

function walk(base: Json, mine: Json, theirs: Json, path: string, conflicts: string[]): Json {
  if (same(mine, base)) return theirs
  if (same(theirs, base) || same(mine, theirs)) return mine
  if (isObj(base) && isObj(mine) && isObj(theirs)) {
    const out: Record<string, Json> = {}
    for (const k of new Set([...Object.keys(base), ...Object.keys(mine), ...Object.keys(theirs)])) {
      const v = walk(base[k], mine[k], theirs[k], path ? `${path}.${k}` : k, conflicts)
      if (v !== undefined) out[k] = v
    }
    return out
  }
  conflicts.push(path || '(document)')
  return mine
}
