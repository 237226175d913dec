import { useState } from 'react'
import { qs, type List } from '../../api/client'
import { useDebounced, useGet, useTitle } from '../../app/hooks'
import { ErrorText, Field, Loading, Pager, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'

interface Entry {
  id: string
  time: string
  actor: string
  action: string
  kind: string
  object_id: string
  version?: number
  client_ip?: string
}

const LIMIT = 50

export default function Audit() {
  useTitle('Audit log')
  const [f, setF] = useState({ actor: '', action: '', kind: '', object_id: '' })
  const filters = useDebounced(f, 300)
  const [offset, setOffset] = useState(0)
  const log = useGet<List<Entry>>('/audit' + qs({ ...filters, limit: LIMIT, offset }))
  const set = (k: keyof typeof f) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setF({ ...f, [k]: e.target.value })
    setOffset(0)
  }
  return (
    <div>
      <h1>Audit log</h1>
      <div className="filters">
        <Field label="Actor">{(p) => <input {...p} value={f.actor} onChange={set('actor')} />}</Field>
        <Field label="Action">{(p) => <input {...p} value={f.action} onChange={set('action')} placeholder="create, update, delete…" />}</Field>
        <Field label="Kind">{(p) => <input {...p} value={f.kind} onChange={set('kind')} />}</Field>
        <Field label="Object id">{(p) => <input {...p} value={f.object_id} onChange={set('object_id')} />}</Field>
      </div>
      <ErrorText error={log.error} />
      {!log.data && !log.error && <Loading />}
      {log.data && (
        <>
          <Table
            caption="Audit log"
            rowKey={(e) => e.id}
            rows={log.data.items}
            columns={[
              { key: 't', label: 'Time', render: (e) => fmtTime(e.time) },
              { key: 'a', label: 'Actor', render: (e) => e.actor },
              { key: 'x', label: 'Action', render: (e) => e.action },
              { key: 'k', label: 'Kind', render: (e) => e.kind },
              { key: 'o', label: 'Object', render: (e) => <code>{e.object_id}</code> },
              { key: 'v', label: 'Version', render: (e) => e.version ?? '—' },
              { key: 'ip', label: 'Client', render: (e) => e.client_ip ?? '—' },
            ]}
          />
          <Pager total={log.data.total} limit={LIMIT} offset={offset} onPage={setOffset} />
        </>
      )}
    </div>
  )
}
