import type { Event } from '../../api/types'
import { useGet, useTitle } from '../../app/hooks'
import { Link } from '../../components/Link'
import { ErrorText, Json, Loading } from '../../components/ui'
import { fmtTime } from '../../lib/format'
import type { Params } from '../../lib/router'

export default function EventPage({ params }: { params: Params }) {
  useTitle('Event ' + params.id)
  const e = useGet<Event>('/events/' + encodeURIComponent(params.id))
  if (e.error) return <ErrorText error={e.error} />
  if (!e.data) return <Loading />
  const ev = e.data
  const by = (ev.metadata.processed_by ?? {}) as { rules?: string[]; flows?: string[] }
  return (
    <div>
      <h1>
        Event <code>{ev.type}</code>
      </h1>
      <dl className="kv">
        <div>
          <dt>Id</dt>
          <dd>
            <code>{ev.id}</code>
          </dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd>{fmtTime(ev.metadata.time.insert)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{ev.metadata.status ?? '—'}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd>{ev.source.id}</dd>
        </div>
        <div>
          <dt>Profile</dt>
          <dd>{ev.profile?.id ? <Link to={'/profiles/' + encodeURIComponent(ev.profile.id)}>{ev.profile.id}</Link> : '—'}</dd>
        </div>
        <div>
          <dt>Session</dt>
          <dd>{ev.session?.id ? <Link to={'/sessions/' + encodeURIComponent(ev.session.id)}>{ev.session.id}</Link> : '—'}</dd>
        </div>
      </dl>
      <section aria-labelledby="h-processed">
        <h2 id="h-processed">Processed by</h2>
        <p>
          Rules: {(by.rules ?? []).length ? by.rules!.map((r) => <Link key={r} to={'/config/rules/' + encodeURIComponent(r)}>{r} </Link>) : 'none'}
          <br />
          Flows: {(by.flows ?? []).length ? by.flows!.join(', ') : 'none'}
        </p>
      </section>
      <h2>Document</h2>
      <Json value={ev} label="Event document" />
    </div>
  )
}
