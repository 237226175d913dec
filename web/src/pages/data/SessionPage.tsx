import type { Session } from '../../api/types'
import { useGet, useTitle } from '../../app/hooks'
import { Link } from '../../components/Link'
import { ErrorText, Json, Loading } from '../../components/ui'
import type { Params } from '../../lib/router'

export default function SessionPage({ params }: { params: Params }) {
  useTitle('Session ' + params.id)
  const s = useGet<Session>('/sessions/' + encodeURIComponent(params.id))
  if (s.error) return <ErrorText error={s.error} />
  if (!s.data) return <Loading />
  return (
    <div>
      <h1>
        Session <code>{s.data.id}</code>
      </h1>
      <p>
        Profile: <Link to={'/profiles/' + encodeURIComponent(s.data.profile.id)}>{s.data.profile.id}</Link>
      </p>
      <Json value={s.data} label="Session document" />
    </div>
  )
}
