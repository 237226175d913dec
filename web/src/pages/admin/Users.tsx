import { useState, type FormEvent } from 'react'
import { del, post, put, type List } from '../../api/client'
import { useGet, useTitle } from '../../app/hooks'
import { Confirm, ErrorText, Field, fieldErrorOf, Loading, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'

interface User {
  id: string
  username: string
  name: string
  roles: string[]
  enabled: boolean
  version: number
  created: string
}

const ROLES = ['admin', 'developer', 'marketer', 'maintainer']

export default function Users() {
  useTitle('Users')
  const users = useGet<List<User>>('/users?limit=1000')
  const [editing, setEditing] = useState<User | null>(null)
  const [deleting, setDeleting] = useState<User | null>(null)
  const [error, setError] = useState<unknown>(null)
  const remove = async () => {
    const u = deleting!
    setDeleting(null)
    try {
      await del('/users/' + encodeURIComponent(u.id))
      users.reload()
    } catch (e) {
      setError(e)
    }
  }
  const endSessions = async (u: User) => {
    try {
      await del(`/users/${encodeURIComponent(u.id)}/sessions`)
      setError(null)
    } catch (e) {
      setError(e)
    }
  }
  return (
    <div>
      <h1>Users and roles</h1>
      <p className="muted">
        admin: everything; developer: sources, event types, flows, destinations; marketer: segments, rules, flows, reports and data; maintainer: system,
        users' sessions, jobs.
      </p>
      <ErrorText error={error ?? users.error} />
      {!users.data && <Loading />}
      {users.data && (
        <Table
          caption="Users"
          rowKey={(u) => u.id}
          rows={users.data.items}
          columns={[
            { key: 'u', label: 'E-mail', render: (u) => u.username },
            { key: 'n', label: 'Name', render: (u) => u.name || '—' },
            { key: 'r', label: 'Roles', render: (u) => u.roles.join(', ') },
            { key: 'e', label: 'Enabled', render: (u) => (u.enabled ? 'yes' : 'no') },
            { key: 'c', label: 'Created', render: (u) => fmtTime(u.created) },
            {
              key: 'a',
              label: 'Actions',
              render: (u) => (
                <span className="row-actions">
                  <button onClick={() => setEditing(u)}>Edit {u.username}</button>
                  <button onClick={() => void endSessions(u)} aria-label={`End the sessions of ${u.username}`}>
                    End sessions
                  </button>
                  <button className="danger" onClick={() => setDeleting(u)} aria-label={`Delete ${u.username}`}>
                    Delete…
                  </button>
                </span>
              ),
            },
          ]}
        />
      )}
      <UserForm
        key={editing?.id ?? 'new'}
        user={editing}
        done={() => {
          setEditing(null)
          users.reload()
        }}
      />
      <Confirm open={deleting !== null} danger title="Delete this user?" confirmLabel="Delete" onCancel={() => setDeleting(null)} onConfirm={() => void remove()}>
        <p>{deleting?.username} will no longer be able to sign in.</p>
      </Confirm>
    </div>
  )
}

function UserForm({ user, done }: { user: User | null; done: () => void }) {
  const [f, setF] = useState({ username: user?.username ?? '', name: user?.name ?? '', password: '', roles: user?.roles ?? ['marketer'], enabled: user?.enabled ?? true })
  const [error, setError] = useState<unknown>(null)
  const fe = fieldErrorOf(error)
  const err = (k: string) => (fe?.field === k ? fe.message : undefined)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setError(null)
    try {
      if (user) {
        await put('/users/' + encodeURIComponent(user.id), {
          name: f.name,
          roles: f.roles,
          enabled: f.enabled,
          version: user.version,
          ...(f.password ? { password: f.password } : {}),
        })
      } else {
        await post('/users', f)
        setF({ username: '', name: '', password: '', roles: ['marketer'], enabled: true })
      }
      done()
    } catch (x) {
      setError(x)
    }
  }
  return (
    <form onSubmit={submit} className="card" aria-label={user ? 'Edit user' : 'New user'}>
      <h2>{user ? 'Edit ' + user.username : 'New user'}</h2>
      {!user && (
        <Field label="E-mail (required)" error={err('username')}>
          {(p) => <input {...p} type="email" required value={f.username} onChange={(e) => setF({ ...f, username: e.target.value })} />}
        </Field>
      )}
      <Field label="Name" error={err('name')}>
        {(p) => <input {...p} value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />}
      </Field>
      <Field label={user ? 'New password (leave empty to keep)' : 'Password (required)'} help="8 to 72 characters" error={err('password')}>
        {(p) => (
          <input {...p} type="password" autoComplete="new-password" required={!user} minLength={8} value={f.password} onChange={(e) => setF({ ...f, password: e.target.value })} />
        )}
      </Field>
      <fieldset>
        <legend>Roles</legend>
        {err('roles') && <p className="field-error">{err('roles')}</p>}
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input
              type="checkbox"
              checked={f.roles.includes(r)}
              onChange={(e) => setF({ ...f, roles: e.target.checked ? [...f.roles, r] : f.roles.filter((x) => x !== r) })}
            />{' '}
            {r}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={f.enabled} onChange={(e) => setF({ ...f, enabled: e.target.checked })} /> Enabled
      </label>
      {!fe && <ErrorText error={error} />}
      <div className="actions">
        <button className="primary" type="submit">
          {user ? 'Save user' : 'Create user'}
        </button>
        {user && (
          <button type="button" onClick={done}>
            Cancel
          </button>
        )}
      </div>
    </form>
  )
}
