// A small history-API router: the app's paths are relative to BASE (/gui), routes are
// patterns such as /profiles/:id, and the current location is an external store that
// React components subscribe to. Kept in-house because the app needs only matching,
// links and redirects (react-router would add ~20 KB gzipped to the first load).

export const BASE = '/gui'

export type Params = Record<string, string>

/** matchPath matches an app path against a pattern; :name segments capture. */
export function matchPath(pattern: string, path: string): Params | null {
  const ps = split(pattern)
  const xs = split(path)
  if (ps.length !== xs.length) return null
  const params: Params = {}
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(xs[i])
      } catch {
        return null
      }
    } else if (p !== xs[i]) {
      return null
    }
  }
  return params
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '')
}

/** appPath turns a browser path (/gui/profiles) into an app path (/profiles). */
export function appPath(pathname: string): string {
  if (pathname === BASE || pathname === BASE + '/') return '/'
  if (pathname.startsWith(BASE + '/')) return pathname.slice(BASE.length)
  return pathname
}

/** href turns an app path (with query) into a browser path. */
export function href(to: string): string {
  return BASE + (to.startsWith('/') ? to : '/' + to)
}

/** pathWith fills a pattern's :params (encoded). */
export function pathWith(pattern: string, params: Params): string {
  return pattern.replace(/:([A-Za-z_]+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ''))
}

/** safeNext accepts a return path only when it is an app path (no other origin). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/'
  return next
}

type Listener = () => void
const listeners = new Set<Listener>()

export function subscribe(l: Listener): () => void {
  listeners.add(l)
  window.addEventListener('popstate', l)
  return () => {
    listeners.delete(l)
    window.removeEventListener('popstate', l)
  }
}

export function currentLocation(): string {
  return appPath(window.location.pathname) + window.location.search
}

export function navigate(to: string, replace = false): void {
  const url = href(to)
  if (replace) window.history.replaceState(null, '', url)
  else window.history.pushState(null, '', url)
  listeners.forEach((l) => l())
  window.scrollTo(0, 0)
}
