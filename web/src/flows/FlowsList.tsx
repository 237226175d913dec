// The flows list (/gui/flows): search, create, duplicate, import and export as JSON
// (the shape the API takes), delete with confirmation. The editor opens per flow.
import { useRef, useState } from 'react'
import { del, get, post, qs, type List } from '../api/client'
import { useDebounced, useGet, useTitle } from '../app/hooks'
import { Link } from '../components/Link'
import { Confirm, ErrorText, Field, Loading, Pager, Table } from '../components/ui'
import { ApiError, withoutField } from '../lib/errors'
import { fmtTime } from '../lib/format'
import { navigate } from '../lib/router'
import { copyOf, exportFile, parseImport, saveJson, type FlowFile } from './io'
import type { Flow } from './types'

const LIMIT = 50

export default function FlowsList() {
  useTitle('Flows')
  const [text, setText] = useState('')
  const q = useDebounced(text, 300)
  const [offset, setOffset] = useState(0)
  const flows = useGet<List<Flow>>('/flows' + qs({ q, limit: LIMIT, offset }))
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [doomed, setDoomed] = useState<Flow | null>(null)
  const [name, setName] = useState('')
  const [id, setId] = useState('')
  const [fieldErr, setFieldErr] = useState<Record<string, string>>({})
  const file = useRef<HTMLInputElement>(null)

  const create = async (body: FlowFile): Promise<Flow> => {
    // an id already taken gets a suffix, so an import never overwrites a flow
    for (let i = 0; ; i++) {
      try {
        return await post<Flow>('/flows', i === 0 || !body.id ? body : { ...body, id: `${body.id}-${i + 1}` })
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && body.id && i < 20) continue
        throw e
      }
    }
  }

  const onCreate = async () => {
    setFieldErr({})
    setError(null)
    try {
      const f = await post<Flow>('/flows', { ...(id.trim() ? { id: id.trim() } : {}), name, enabled: true, draft: { nodes: [], edges: [] } })
      navigate('/flows/' + encodeURIComponent(f.id))
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.field) setFieldErr({ [e.field]: withoutField(e.message, e.field) })
      else if (e instanceof ApiError && e.status === 409) setFieldErr({ id: withoutField(e.message, e.field) })
      else setError(e)
    }
  }

  const duplicate = async (f: Flow) => {
    setError(null)
    try {
      const full = await get<Flow>('/flows/' + encodeURIComponent(f.id))
      const taken = new Set(flows.data?.items.map((x) => x.id))
      const c = copyOf(full.id, full.name, taken)
      const made = await create({ ...exportFile(full), ...c })
      setNotice(`Duplicated as ${made.name} (${made.id}).`)
      flows.reload()
    } catch (e) {
      setError(e)
    }
  }

  const exportOne = async (f: Flow) => {
    try {
      const full = await get<Flow>('/flows/' + encodeURIComponent(f.id))
      saveJson(`${full.id}.flow.json`, exportFile(full))
    } catch (e) {
      setError(e)
    }
  }

  const importFile = async (fl: File) => {
    setError(null)
    setNotice(null)
    try {
      const body = parseImport(await fl.text(), fl.name.replace(/\.json$/i, '').replace(/\.flow$/i, ''))
      const made = await create(body)
      setNotice(`Imported ${made.name} (${made.id}).`)
      flows.reload()
    } catch (e) {
      setError(e instanceof ApiError && e.field ? new Error(`Not imported: ${e.message}`) : e)
    } finally {
      if (file.current) file.current.value = ''
    }
  }

  const remove = async () => {
    const f = doomed
    setDoomed(null)
    if (!f) return
    try {
      await del('/flows/' + encodeURIComponent(f.id))
      setNotice(`Deleted ${f.name}.`)
      flows.reload()
    } catch (e) {
      setError(e)
    }
  }

  return (
    <div>
      <h1>Flows</h1>
      <p className="muted">A flow is a graph of actions; rules run its deployed version on matching events.</p>
      <div className="panels flows-top">
        <form
          className="panel"
          onSubmit={(e) => {
            e.preventDefault()
            void onCreate()
          }}
        >
          <h2>New flow</h2>
          <Field label="Name (required)" error={fieldErr.name}>
            {(p) => <input {...p} type="text" value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Id (optional)" help="Letters, digits, '.', '_' or '-'; made up when empty." error={fieldErr.id}>
            {(p) => <input {...p} type="text" value={id} onChange={(e) => setId(e.target.value)} />}
          </Field>
          <button className="primary" type="submit">
            Create and open
          </button>
        </form>
        <div className="panel">
          <h2>Import</h2>
          <p className="muted small">A flow exported as JSON (or any body POST /api/v1/flows takes). A flow whose id exists is imported under a new id.</p>
          <label className="button" htmlFor="flow-import">
            Import JSON file…
          </label>
          <input
            id="flow-import"
            ref={file}
            className="sr-only"
            type="file"
            accept="application/json,.json"
            onChange={(e) => {
              const f = e.target.files?.[0]
              if (f) void importFile(f)
            }}
          />
        </div>
      </div>
      <ErrorText error={error} />
      {notice && (
        <p className="note" role="status">
          {notice}
        </p>
      )}
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
              { key: 'n', label: 'Name', render: (f) => <Link to={'/flows/' + encodeURIComponent(f.id)}>{f.name}</Link> },
              { key: 'i', label: 'Id', render: (f) => <code>{f.id}</code> },
              { key: 'd', label: 'Nodes (draft)', render: (f) => f.draft?.nodes?.length ?? 0 },
              { key: 'e', label: 'Enabled', render: (f) => (f.enabled ? 'yes' : 'no') },
              { key: 'u', label: 'Updated', render: (f) => fmtTime(f.updated) },
              {
                key: 'a',
                label: 'Actions',
                render: (f) => (
                  <span className="row-actions">
                    <button onClick={() => void duplicate(f)} aria-label={`Duplicate ${f.name}`}>
                      Duplicate
                    </button>
                    <button onClick={() => void exportOne(f)} aria-label={`Export ${f.name}`}>
                      Export
                    </button>
                    <button className="danger" onClick={() => setDoomed(f)} aria-label={`Delete ${f.name}`}>
                      Delete
                    </button>
                  </span>
                ),
              },
            ]}
          />
          <Pager total={flows.data.total} limit={LIMIT} offset={offset} onPage={setOffset} />
        </>
      )}
      <Confirm open={doomed !== null} title={`Delete ${doomed?.name}?`} confirmLabel="Delete flow" danger onConfirm={() => void remove()} onCancel={() => setDoomed(null)}>
        <p>
          The flow <code>{doomed?.id}</code>, its draft and all its deployed versions are deleted. Rules that name it run nothing. This cannot be undone;
          export it first to keep a copy.
        </p>
      </Confirm>
    </div>
  )
}
