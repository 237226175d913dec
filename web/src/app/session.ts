import { createContext, useContext } from 'react'
import type { Me } from '../api/types'

export interface SessionState {
  me: Me
  logout: () => Promise<void>
  can: (perm: string) => boolean
}

export const SessionContext = createContext<SessionState | null>(null)

export function useSession(): SessionState {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside a signed-in page')
  return s
}
