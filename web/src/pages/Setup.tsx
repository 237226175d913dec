import { useState, type FormEvent } from 'react'
import { post } from '../api/client'
import { useTitle } from '../app/hooks'
import { Field, ErrorText, fieldErrorOf } from '../components/ui'

/** Setup creates the first admin with the installation token (first run only). */
export function Setup({ done }: { done: () => void }) {
  useTitle('Set up')
  const [form, setForm] = useState({ token: '', username: '', password: '', repeat: '' })
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const fe = fieldErrorOf(error)
  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value })
  const mismatch = form.repeat !== '' && form.repeat !== form.password
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (form.password !== form.repeat) return
    setBusy(true)
    setError(null)
    try {
      await post('/install', { token: form.token, username: form.username, password: form.password }, { anonymous: true })
      done()
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }
  const errFor = (f: string) => (fe && fe.field === f ? fe.message : undefined)
  return (
    <main className="center card narrow" id="main">
      <h1>Welcome to ThamesThrive</h1>
      <p>
        Create the first administrator. The installation token is the <code>INSTALLATION_TOKEN</code> setting, or the one the server printed when it
        started.
      </p>
      <form onSubmit={submit}>
        <Field label="Installation token" error={errFor('token')}>
          {(p) => <input {...p} required autoComplete="off" value={form.token} onChange={set('token')} />}
        </Field>
        <Field label="Admin e-mail" error={errFor('username')}>
          {(p) => <input {...p} type="email" required autoComplete="username" value={form.username} onChange={set('username')} />}
        </Field>
        <Field label="Password" help="8 to 72 characters" error={errFor('password')}>
          {(p) => (
            <input {...p} type="password" required minLength={8} maxLength={72} autoComplete="new-password" value={form.password} onChange={set('password')} />
          )}
        </Field>
        <Field label="Repeat the password" error={mismatch ? 'does not match the password' : undefined}>
          {(p) => <input {...p} type="password" required autoComplete="new-password" value={form.repeat} onChange={set('repeat')} />}
        </Field>
        {!fe && <ErrorText error={error} />}
        <button className="primary" type="submit" disabled={busy || mismatch}>
          Create admin
        </button>
      </form>
    </main>
  )
}
