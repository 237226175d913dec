import { useState } from 'react'
import { qs, type List } from '../../api/client'
import type { Meta } from '../../api/types'
import { useDebounced, useGet, useTitle } from '../../app/hooks'
import { useSession } from '../../app/session'
import { Link } from '../../components/Link'
import { ErrorText, Field, Loading, Pager, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'
import type { Params } from '../../lib/router'
import { getPath } from '../../lib/schema'
import { resourceOf } from './resources'

const LIMIT = 50

export default function ResourceList({ params }: { params: Params }) {
  const def = resourceOf(params.kind)
  const { can } = useSession()
  useTitle(def?.label ?? 'Not found')
  const [text, setText] = useState('')
  const q = useDebounced(text, 300)
  const [offset, setOffset] = useState(0)
  const list = useGet<List<Meta>>(def && can(def.perm) ? def.base + qs({ q, limit: LIMIT, offset }) : null)
  if (!def) return <h1>No such configuration page</h1>
  if (!can(def.perm)) return <p>Your roles do not include {def.label.toLowerCase()}.</p>
  return (
    <div>
      <div className="page-head">
        <h1>{def.label}</h1>
        <div className="controls">
          <Link className="button primary" to={`/config/${def.kind}/new`}>
            New {def.single}
          </Link>
        </div>
      </div>
      <Field label="Filter by id, name or description">
        {(p) => (
          <input
            {...p}
            type="search"
            value={text}
            onChange={(e) => {
              setText(e.target.value)
              setOffset(0)
            }}
          />
        )}
      </Field>
      <ErrorText error={list.error} />
      {!list.data && !list.error && <Loading />}
      {list.data && (
        <>
          <Table
            caption={def.label}
            rowKey={(r) => r.id}
            rows={list.data.items}
            columns={[
              { key: 'name', label: 'Name', render: (r) => <Link to={`/config/${def.kind}/${encodeURIComponent(r.id)}`}>{r.name || r.id}</Link> },
              { key: 'id', label: 'Id', render: (r) => <code>{r.id}</code> },
              ...def.columns.map((c) => ({ key: c.path, label: c.label, render: (r: Meta) => String(getPath(r, c.path) ?? '—') })),
              { key: 'enabled', label: 'Enabled', render: (r) => (r.enabled ? 'yes' : 'no') },
              { key: 'updated', label: 'Updated', render: (r) => fmtTime(r.updated) },
            ]}
          />
          <Pager total={list.data.total} limit={LIMIT} offset={offset} onPage={setOffset} />
        </>
      )}
    </div>
  )
}
