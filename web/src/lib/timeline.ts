// The profile page's timeline: the profile's events grouped under their sessions,
// newest first; events whose session is not stored get a group of their own.
import type { Event, Session } from '../api/types'

export interface TimelineGroup {
  sessionId: string
  session?: Session
  start: string
  events: Event[]
}

function timeOf(e: Event): string {
  return e.metadata?.time?.insert ?? e.metadata?.time?.create ?? ''
}

export function timeline(sessions: Session[], events: Event[]): TimelineGroup[] {
  const groups = new Map<string, TimelineGroup>()
  for (const s of sessions) {
    groups.set(s.id, { sessionId: s.id, session: s, start: s.metadata?.time?.insert ?? '', events: [] })
  }
  for (const e of events) {
    const sid = e.session?.id || '(no session)'
    let g = groups.get(sid)
    if (!g) {
      g = { sessionId: sid, start: timeOf(e), events: [] }
      groups.set(sid, g)
    }
    g.events.push(e)
  }
  const out = [...groups.values()]
  for (const g of out) {
    g.events.sort((a, b) => timeOf(b).localeCompare(timeOf(a)))
    const newest = g.events[0] ? timeOf(g.events[0]) : g.start
    if (newest > g.start) g.start = newest
  }
  return out.sort((a, b) => b.start.localeCompare(a.start))
}
