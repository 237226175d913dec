// The flows area. This folder is where the visual flow editor goes: it adds its page
// (e.g. FlowEditor.tsx) and a '/flows/:id' row in app/routes.tsx.
import { useState } from 'react'
import { qs, type List } from '../../api/client'
import type { Meta } from '../../api/types'
import { useDebounced, useGet, useTitle } from '../../app/hooks'
import { ErrorText, Field, Loading, Pager, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'

const LIMIT = 50

export default function FlowList() {
  useTitle('Flows')
  const [text, setText] = useState('')
  const q = useDebounced(text, 300)
  const [offset, setOffset] = useState(0)
  const flows = useGet<List<Meta & { draft?: { nodes?: unknown[] } }>>('/flows' + qs({ q, limit: LIMIT, offset }))
  return (
    <div>
      <h1>Flows</h1>
      <p className="muted">Flows are edited through the API for now (see docs/workflows.md); rules start them.</p>
      <Field label="Filter by id, name or description">{(p) => <input {...p} type="search" value={text} onChange={(e) => setText(e.target.value)} />}</Field>
      <ErrorText error={flows.error} />
      {!flows.data && !flows.error && <Loading />}
      {flows.data && (
        <>
          <Table
            caption="Flows"
            rowKey={(f) => f.id}
            rows={flows.data.items}
            columns={[
              { key: 'n', label: 'Name', render: (f) => f.name },
              { key: 'i', label: 'Id', render: (f) => <code>{f.id}</code> },
              { key: 'd', label: 'Nodes (draft)', render: (f) => f.draft?.nodes?.length ?? 0 },
              { key: 'e', label: 'Enabled', render: (f) => (f.enabled ? 'yes' : 'no') },
              { key: 'u', label: 'Updated', render: (f) => fmtTime(f.updated) },
            ]}
          />
          <Pager total={flows.data.total} limit={LIMIT} offset={offset} onPage={setOffset} />
        </>
      )}
    </div>
  )
}
