import { useState, type FormEvent } from 'react'
import { put, setToken } from '../../api/client'
import { useTitle } from '../../app/hooks'
import { useSession } from '../../app/session'
import { ErrorText, Field, fieldErrorOf } from '../../components/ui'
import { fmtTime } from '../../lib/format'

export default function Account() {
  useTitle('Your account')
  const { me } = useSession()
  const [f, setF] = useState({ current_password: '', new_password: '' })
  const [error, setError] = useState<unknown>(null)
  const [ok, setOk] = useState(false)
  const fe = fieldErrorOf(error)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setError(null)
    setOk(false)
    try {
      const tok = await put<{ access_token: string }>('/me/password', f)
      setToken(tok.access_token)
      setF({ current_password: '', new_password: '' })
      setOk(true)
    } catch (x) {
      setError(x)
    }
  }
  return (
    <div>
      <h1>Your account</h1>
      <p>
        {me.username} · roles {me.roles.join(', ')} · this sign-in ends {fmtTime(me.token_expires)}
      </p>
      <form onSubmit={submit} className="card narrow-form" aria-label="Change password">
        <h2>Change password</h2>
        <Field label="Current password" error={fe?.field === 'current_password' ? fe.message : undefined}>
          {(p) => <input {...p} type="password" autoComplete="current-password" required value={f.current_password} onChange={(e) => setF({ ...f, current_password: e.target.value })} />}
        </Field>
        <Field label="New password" help="8 to 72 characters; your other sign-ins end" error={fe?.field === 'new_password' ? fe.message : undefined}>
          {(p) => <input {...p} type="password" autoComplete="new-password" required minLength={8} value={f.new_password} onChange={(e) => setF({ ...f, new_password: e.target.value })} />}
        </Field>
        {!fe && <ErrorText error={error} />}
        {ok && <p className="ok" role="status">Password changed.</p>}
        <button className="primary" type="submit">
          Change password
        </button>
      </form>
    </div>
  )
}
