import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { get } from '../api/client'
import { currentLocation, subscribe } from '../lib/router'

/** useLocation is the current app path with its query string. */
export function useLocation(): string {
  return useSyncExternalStore(subscribe, currentLocation)
}

export function useQueryParam(name: string): string | null {
  const loc = useLocation()
  const i = loc.indexOf('?')
  return new URLSearchParams(i < 0 ? '' : loc.slice(i)).get(name)
}

export interface Loaded<T> {
  data?: T
  error?: Error
  loading: boolean
  reload: () => void
}

/** useGet loads an API route (null: nothing to load) and reloads when it changes. */
export function useGet<T>(path: string | null, refreshMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: path !== null })
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => setTick((t) => t + 1), [])
  useEffect(() => {
    if (path === null) return
    const ctl = new AbortController()
    setState((s) => ({ ...s, loading: true }))
    get<T>(path, { signal: ctl.signal }).then(
      (data) => setState({ data, loading: false }),
      (error: Error) => {
        if (error.name !== 'AbortError') setState({ error, loading: false })
      },
    )
    return () => ctl.abort()
  }, [path, tick])
  useEffect(() => {
    if (!refreshMs) return
    const t = setInterval(reload, refreshMs)
    return () => clearInterval(t)
  }, [refreshMs, reload])
  return { ...state, reload }
}

/** useDebounced follows value after it has been still for ms. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return v
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title + ' · ThamesThrive'
  }, [title])
}

export function useMounted(): React.RefObject<boolean> {
  const m = useRef(true)
  useEffect(() => {
    m.current = true
    return () => {
      m.current = false
    }
  }, [])
  return m
}
