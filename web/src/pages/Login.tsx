import { useState, type FormEvent } from 'react'
import { post, setToken } from '../api/client'
import { useQueryParam, useTitle } from '../app/hooks'
import { Field, ErrorText } from '../components/ui'

export function Login({ onToken }: { onToken: (next: string | null) => Promise<void> }) {
  useTitle('Sign in')
  const next = useQueryParam('next')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const tok = await post<{ access_token: string }>('/auth/token', { username, password }, { anonymous: true })
      setToken(tok.access_token)
      await onToken(next)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }
  return (
    <main className="center card narrow" id="main">
      <h1>Sign in to ThamesThrive</h1>
      {next && next !== '/' && <p className="muted">Your session ended; sign in again to go back to where you were.</p>}
      <form onSubmit={submit}>
        <Field label="E-mail">
          {(p) => <input {...p} type="email" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />}
        </Field>
        <Field label="Password">
          {(p) => (
            <input {...p} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <ErrorText error={error} />
        <button className="primary" type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  )
}
