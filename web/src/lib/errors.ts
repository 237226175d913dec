// Turning the API's error answers into what a form or a search box shows.

export interface ErrorBody {
  status: number
  error: string
  field?: string
}

export class ApiError extends Error {
  status: number
  field?: string
  constructor(body: ErrorBody) {
    super(body.error)
    this.status = body.status
    this.field = body.field
  }
}

/** withoutField drops the "field: " prefix the API puts before a field's message. */
export function withoutField(msg: string, field?: string): string {
  if (field && msg.startsWith(field + ': ')) return msg.slice(field.length + 2)
  return msg
}

export interface Positioned {
  line: number
  col: number
  message: string
}

/** positioned reads the condition parser's "line L, col C: message" from an error. */
export function positioned(msg: string): Positioned | null {
  const m = /line (\d+), col (\d+): (.*)$/s.exec(msg)
  if (!m) return null
  return { line: Number(m[1]), col: Number(m[2]), message: m[3] }
}

/** offsetOf turns a 1-based line and column into an offset into src. */
export function offsetOf(src: string, line: number, col: number): number {
  let off = 0
  for (let l = 1; l < line; l++) {
    const nl = src.indexOf('\n', off)
    if (nl < 0) return src.length
    off = nl + 1
  }
  return Math.min(src.length, off + col - 1)
}
