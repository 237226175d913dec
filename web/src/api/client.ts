// The GUI's only way to the server: the documented /api/v1 routes, with the bearer
// token of the session. The token lives in memory and in sessionStorage (gone with the
// tab, never in localStorage); a 401 on a signed-in call ends the session, and the app
// sends the user to the login page with the page they were on.
import { ApiError, type ErrorBody } from '../lib/errors'

const KEY = 'thamesthrive.token'

let token: string | null = sessionStorage.getItem(KEY)
const expiredListeners = new Set<() => void>()

export function getToken(): string | null {
  return token
}

export function setToken(t: string | null): void {
  token = t
  if (t) sessionStorage.setItem(KEY, t)
  else sessionStorage.removeItem(KEY)
}

/** onExpired registers a callback run when the server refuses the session's token. */
export function onExpired(f: () => void): () => void {
  expiredListeners.add(f)
  return () => expiredListeners.delete(f)
}

export interface Opts {
  signal?: AbortSignal
  /** anonymous calls do not send the token, nor end the session on 401 */
  anonymous?: boolean
}

export async function api<T>(method: string, path: string, body?: unknown, opts: Opts = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const sent = opts.anonymous ? null : token
  if (sent) headers.Authorization = 'Bearer ' + sent
  const res = await fetch('/api/v1' + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: opts.signal,
  })
  if (res.status === 204) return undefined as T
  let data: unknown = null
  const text = await res.text()
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = { status: res.status, error: text.slice(0, 200) }
    }
  }
  if (!res.ok) {
    const e = (data as ErrorBody) ?? { status: res.status, error: res.statusText }
    if (res.status === 401 && sent && sent === token) {
      setToken(null)
      expiredListeners.forEach((f) => f())
    }
    throw new ApiError({ status: res.status, error: e.error ?? res.statusText, field: e.field })
  }
  return data as T
}

export const get = <T>(path: string, opts?: Opts) => api<T>('GET', path, undefined, opts)
export const post = <T>(path: string, body?: unknown, opts?: Opts) => api<T>('POST', path, body ?? {}, opts)
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body)
export const del = <T>(path: string) => api<T>('DELETE', path)

/** download fetches a JSON route with the token and saves it as a file. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch('/api/v1' + path, { headers: { Authorization: 'Bearer ' + token } })
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as ErrorBody
    throw new ApiError({ status: res.status, error: e.error ?? res.statusText, field: e.field })
  }
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export interface List<T> {
  total: number
  // Searches count up to 10,000 matches: "gte" means at least total match.
  total_relation?: 'eq' | 'gte'
  items: T[]
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  const s = u.toString()
  return s ? '?' + s : ''
}
