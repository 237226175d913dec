import { Suspense, useCallback, useEffect, useMemo, useState, type ReactElement } from "react"
import { get, getToken, onExpired, post, setToken } from '../api/client'
import type { Me } from '../api/types'
import { Link } from '../components/Link'
import { currentLocation, matchPath, navigate, safeNext } from '../lib/router'
import { configKinds } from './configNav'
import { useLocation } from './hooks'
import { routes } from './routes'
import { SessionContext, type SessionState } from './session'
import { Login } from '../pages/Login'
import { Setup } from '../pages/Setup'
import { ErrorBoundary } from '../components/ErrorBoundary'

type Phase = { kind: 'loading' } | { kind: 'setup' } | { kind: 'login' } | { kind: 'in'; me: Me } | { kind: 'down'; error: string }

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' })
  const loc = useLocation()

  const start = useCallback(async () => {
    try {
      if (getToken()) {
        try {
          setPhase({ kind: 'in', me: await get<Me>('/me') })
          return
        } catch {
          setToken(null)
        }
      }
      const st = await get<{ installed: boolean }>('/install', { anonymous: true })
      setPhase({ kind: st.installed ? 'login' : 'setup' })
    } catch (e) {
      setPhase({ kind: 'down', error: (e as Error).message })
    }
  }, [])

  useEffect(() => {
    void start()
  }, [start])

  useEffect(
    () =>
      onExpired(() => {
        const here = currentLocation()
        setPhase({ kind: 'login' })
        if (!here.startsWith('/login')) navigate('/login?next=' + encodeURIComponent(here), true)
      }),
    [],
  )

  const path = loc.split('?')[0]
  useEffect(() => {
    if (phase.kind === 'setup' && path !== '/setup') navigate('/setup', true)
    if (phase.kind === 'login' && path !== '/login') navigate('/login?next=' + encodeURIComponent(currentLocation()), true)
    if (phase.kind === 'in' && (path === '/login' || path === '/setup')) navigate('/', true)
  }, [phase, path])

  const signedIn = useCallback(async (next: string | null) => {
    const me = await get<Me>('/me')
    setPhase({ kind: 'in', me })
    navigate(safeNext(next), true)
  }, [])

  switch (phase.kind) {
    case 'loading':
      return <p className="center muted">Loading…</p>
    case 'down':
      return (
        <div className="center card narrow">
          <h1>ThamesThrive is not reachable</h1>
          <p role="alert">{phase.error}</p>
          <button onClick={() => void start()}>Try again</button>
        </div>
      )
    case 'setup':
      return <Setup done={() => setPhase({ kind: 'login' })} />
    case 'login':
      return <Login onToken={signedIn} />
    case 'in':
      return <Shell me={phase.me} path={path} onLogout={() => setPhase({ kind: 'login' })} />
  }
}

function Shell({ me, path, onLogout }: { me: Me; path: string; onLogout: () => void }) {
  const [menuOpen, setMenuOpen] = useState(false)
  const session: SessionState = useMemo(
    () => ({
      me,
      can: (p: string) => me.permissions.includes(p),
      logout: async () => {
        try {
          await post('/auth/logout')
        } finally {
          // Signing out forgets everything this tab kept: the token and unsaved drafts.
          setToken(null)
          sessionStorage.clear()
          onLogout()
          navigate('/login', true)
        }
      },
    }),
    [me, onLogout],
  )
  useEffect(() => setMenuOpen(false), [path])

  let page: ReactElement = <NotFound />
  for (const r of routes) {
    const params = matchPath(r.path, path)
    if (!params) continue
    const allowed = r.perm === null || session.can(r.perm)
    const C = r.component
    page = allowed ? <C params={params} /> : <Forbidden />
    break
  }

  const groups = new Map<string, { to: string; label: string }[]>()
  const add = (group: string, to: string, label: string) => groups.set(group, [...(groups.get(group) ?? []), { to, label }])
  for (const r of routes) if (r.nav && (r.perm === null || session.can(r.perm))) add(r.nav.group, r.path, r.nav.label)
  for (const c of configKinds) if (session.can(c.perm)) add(c.group, '/config/' + c.kind, c.label)
  const order = ['Insight', 'Data', 'Collect', 'Automation', 'Admin']

  return (
    <SessionContext.Provider value={session}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <button className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <Link to="/" className="brand">
          ThamesThrive
        </Link>
        <span className="spacer" />
        <Link to="/account" className="who">
          {me.name || me.username} <span className="muted">({me.roles.join(', ')})</span>
        </Link>
        <button className="link" onClick={() => void session.logout()}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav id="nav" aria-label="Main" className={menuOpen ? 'open' : ''}>
          {order
            .filter((g) => groups.has(g))
            .map((g) => (
              <div key={g} className="nav-group">
                <h2>{g}</h2>
                <ul>
                  {groups.get(g)!.map((i) => (
                    <li key={i.to}>
                      <Link to={i.to} aria-current={isCurrent(i.to, path) ? 'page' : undefined}>
                        {i.label}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
        </nav>
        <main id="main" tabIndex={-1}>
          <ErrorBoundary key={path}>
            <Suspense fallback={<p className="muted">Loading…</p>}>{page}</Suspense>
          </ErrorBoundary>
        </main>
      </div>
    </SessionContext.Provider>
  )
}

function isCurrent(to: string, path: string): boolean {
  return to === '/' ? path === '/' : path === to || path.startsWith(to + '/')
}

function NotFound() {
  return (
    <div>
      <h1>Not found</h1>
      <p>There is no page here. <Link to="/">Go to the dashboard</Link>.</p>
    </div>
  )
}

function Forbidden() {
  return (
    <div>
      <h1>Not allowed</h1>
      <p>Your roles do not include this page. Ask an admin if you need it.</p>
    </div>
  )
}
