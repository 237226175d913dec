import { useEffect, useId, useRef, type ReactNode } from 'react'
import { ApiError } from '../lib/errors'

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null
  const msg = error instanceof Error ? error.message : String(error)
  return (
    <p role="alert" className="error">
      {msg}
    </p>
  )
}

/** Field wraps one labelled control with its help text and error message. */
export function Field({
  label,
  help,
  error,
  children,
  id,
}: {
  label: string
  help?: string
  error?: string
  id?: string
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode
}) {
  const auto = useId()
  const fid = id ?? auto
  const describedBy = [help ? fid + '-help' : '', error ? fid + '-err' : ''].filter(Boolean).join(' ') || undefined
  return (
    <div className={'field' + (error ? ' invalid' : '')}>
      <label htmlFor={fid}>{label}</label>
      {children({ id: fid, 'aria-describedby': describedBy, 'aria-invalid': error ? true : undefined })}
      {help && (
        <small id={fid + '-help'} className="help">
          {help}
        </small>
      )}
      {error && (
        <small id={fid + '-err'} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  )
}

export interface Column<T> {
  key: string
  label: string
  render: (row: T) => ReactNode
  /** the API field this column sorts by; none: not sortable */
  sort?: string
}

export interface SortState {
  field: string
  order: 'asc' | 'desc'
}

export function Table<T>({
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  caption,
}: {
  columns: Column<T>[]
  rows: T[]
  rowKey: (r: T) => string
  sort?: SortState | null
  onSort?: (s: SortState) => void
  caption?: string
}) {
  return (
    <div className="table-wrap">
      <table>
        {caption && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => {
              const active = sort && c.sort && sort.field === c.sort
              return (
                <th key={c.key} aria-sort={active ? (sort!.order === 'asc' ? 'ascending' : 'descending') : undefined} scope="col">
                  {c.sort && onSort ? (
                    <button
                      className="link"
                      onClick={() => onSort({ field: c.sort!, order: active && sort!.order === 'desc' ? 'asc' : 'desc' })}
                    >
                      {c.label}
                      {active ? (sort!.order === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              )
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="muted">
                Nothing here.
              </td>
            </tr>
          )}
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => (
                <td key={c.key}>{c.render(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function Pager({
  total,
  limit,
  offset,
  onPage,
  atLeast,
}: {
  total: number
  limit: number
  offset: number
  onPage: (offset: number) => void
  atLeast?: boolean // the total is a lower bound (a search that stopped counting)
}) {
  const last = Math.max(0, Math.min(total, 10000) - 1)
  return (
    <nav className="pager" aria-label="Pages">
      <button disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span>
        {total === 0 ? 0 : offset + 1}–{Math.min(offset + limit, total)} of {total.toLocaleString('en-GB')}
        {atLeast ? '+' : ''}
      </span>
      <button disabled={offset + limit > last} onClick={() => onPage(offset + limit)}>
        Next
      </button>
    </nav>
  )
}

/** Confirm is a modal dialog (focus trapped by the browser, Esc cancels). */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  danger,
}: {
  open: boolean
  title: string
  children: ReactNode
  confirmLabel: string
  onConfirm: () => void
  onCancel: () => void
  danger?: boolean
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open && !d.open) d.showModal()
    if (!open && d.open) d.close()
  }, [open])
  return (
    <dialog ref={ref} onCancel={onCancel} aria-labelledby="confirm-title">
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div className="actions">
        <button onClick={onCancel}>Cancel</button>
        <button className={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  )
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  )
}

export function KeyValues({ data }: { data: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(data ?? {})
  if (entries.length === 0) return <p className="muted">None.</p>
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'object' && v !== null ? <code>{JSON.stringify(v)}</code> : String(v)}</dd>
        </div>
      ))}
    </dl>
  )
}

export function Loading({ what }: { what?: string }) {
  return <p className="muted">Loading{what ? ' ' + what : ''}…</p>
}

/** fieldErrorOf picks the API error that names a field, for showing next to it. */
export function fieldErrorOf(e: unknown): { field: string; message: string } | null {
  if (e instanceof ApiError && e.field) {
    const msg = e.message.startsWith(e.field + ': ') ? e.message.slice(e.field.length + 2) : e.message
    return { field: e.field, message: msg }
  }
  return null
}
