import { useEffect, useState, type FormEvent } from 'react'
import { del, get, post, put } from '../../api/client'
import type { Meta } from '../../api/types'
import { useTitle } from '../../app/hooks'
import { useSession } from '../../app/session'
import { Link } from '../../components/Link'
import { SchemaForm } from '../../components/SchemaForm'
import { Confirm, ErrorText, Loading } from '../../components/ui'
import { ApiError, withoutField } from '../../lib/errors'
import { merge3 } from '../../lib/merge'
import { navigate, type Params } from '../../lib/router'
import { defaults, validate, type Errors } from '../../lib/schema'
import { Extras } from './extras'
import { resourceOf, type ResourceDef } from './resources'

export default function ResourceEdit({ params }: { params: Params }) {
  const def = resourceOf(params.kind)
  const { can } = useSession()
  if (!def) return <h1>No such configuration page</h1>
  if (!can(def.perm)) return <p>Your roles do not include {def.label.toLowerCase()}.</p>
  return <Editor key={def.kind + '/' + params.id} def={def} id={params.id === 'new' ? null : params.id} />
}

type Doc = Partial<Meta> & Record<string, unknown>

const draftKey = (def: ResourceDef, id: string | null) => `thamesthrive.draft.${def.kind}.${id ?? 'new'}`

/**
 * Editor creates or changes one resource. What the user typed is never lost: it stays
 * in the form after a failed save and is also kept in sessionStorage until a save
 * succeeds (so a sign-in in between does not lose it). A 409 on a stale version offers
 * to reload the stored version and re-apply the user's edits on top of it.
 */
function Editor({ def, id }: { def: ResourceDef; id: string | null }) {
  const creating = id === null
  useTitle((creating ? 'New ' : 'Edit ') + def.single)
  const [base, setBase] = useState<Doc | null>(creating ? (defaults(def.schema) as Doc) : null)
  const [doc, setDoc] = useState<Doc | null>(base)
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<unknown>(null)
  const [stale, setStale] = useState(false)
  const [conflicts, setConflicts] = useState<string[]>([])
  const [restored, setRestored] = useState(false)
  const [saved, setSaved] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [confirmDelete, setConfirmDelete] = useState(false)
  // Controls that keep their own text (lists, JSON) start over when the document is
  // replaced from outside the form: loaded, merged, saved.
  const [formKey, setFormKey] = useState(0)

  useEffect(() => {
    const draft = sessionStorage.getItem(draftKey(def, id))
    const apply = (stored: Doc) => {
      setBase(stored)
      if (draft) {
        try {
          setDoc(JSON.parse(draft) as Doc)
          setRestored(true)
          return
        } catch {
          /* a broken draft is dropped below */
        }
      }
      setDoc(stored)
    }
    if (creating) {
      apply(defaults(def.schema) as Doc)
      return
    }
    get<Doc>(def.base + '/' + encodeURIComponent(id!)).then(apply, setFormError)
  }, [def, id, creating])

  if (!doc) return formError ? <ErrorText error={formError} /> : <Loading />

  const save = async (e: FormEvent) => {
    e.preventDefault()
    setSaved(null)
    setFormError(null)
    setStale(false)
    const clean = strip(doc)
    const errs = validate(def.schema, clean)
    setErrors(errs)
    if (Object.keys(errs).length) {
      setFormError(new Error('Correct the fields marked below.'))
      return
    }
    setBusy(true)
    try {
      const stored = creating ? await post<Doc>(def.base, clean) : await put<Doc>(def.base + '/' + encodeURIComponent(id!), clean)
      sessionStorage.removeItem(draftKey(def, id))
      setConflicts([])
      setRestored(false)
      if (creating) {
        navigate(`/config/${def.kind}/${encodeURIComponent(stored.id!)}`, true)
        return
      }
      setBase(stored)
      setDoc(stored)
      setFormKey((k) => k + 1)
      setSaved(`Saved (version ${stored.version}).`)
    } catch (err) {
      sessionStorage.setItem(draftKey(def, id), JSON.stringify(doc))
      if (err instanceof ApiError && err.status === 409 && !creating && /version/.test(err.message)) {
        setStale(true)
      } else if (err instanceof ApiError && err.field) {
        setErrors({ [err.field]: withoutField(err.message, err.field) })
        setFormError(new Error(`Not saved: ${err.field} ${withoutField(err.message, err.field)}`))
      } else {
        setFormError(err)
      }
    } finally {
      setBusy(false)
    }
  }

  const reloadAndMerge = async () => {
    try {
      const theirs = await get<Doc>(def.base + '/' + encodeURIComponent(id!))
      const m = merge3(base, doc, theirs)
      setBase(theirs)
      setDoc(m.merged)
      setFormKey((k) => k + 1)
      setConflicts(m.conflicts)
      setStale(false)
      setFormError(null)
    } catch (err) {
      setFormError(err)
    }
  }

  const remove = async () => {
    setConfirmDelete(false)
    try {
      await del(def.base + '/' + encodeURIComponent(id!))
      sessionStorage.removeItem(draftKey(def, id))
      navigate('/config/' + def.kind, true)
    } catch (err) {
      setFormError(err)
    }
  }

  const discardDraft = () => {
    sessionStorage.removeItem(draftKey(def, id))
    setDoc(base)
    setFormKey((k) => k + 1)
    setRestored(false)
  }

  return (
    <div className="editor">
      <p>
        <Link to={'/config/' + def.kind}>← {def.label}</Link>
      </p>
      <h1>{creating ? 'New ' + def.single : (doc.name as string) || id}</h1>
      {restored && (
        <p className="note" role="status">
          Your unsaved changes were restored.{' '}
          <button type="button" className="link" onClick={discardDraft}>
            Discard them
          </button>
        </p>
      )}
      {stale && (
        <div className="note warn" role="alert">
          <p>Someone saved a newer version of this {def.single} since you opened it. Your changes are kept.</p>
          <button type="button" className="primary" onClick={() => void reloadAndMerge()}>
            Reload and merge my changes
          </button>
        </div>
      )}
      {conflicts.length > 0 && (
        <p className="note warn" role="status">
          Merged onto the newer version. Both of you changed: {conflicts.join(', ')} — your values are shown; check them and save again.
        </p>
      )}
      <div className="edit-grid">
        <form onSubmit={save} noValidate aria-label={(creating ? 'New ' : 'Edit ') + def.single}>
          <SchemaForm key={formKey} schema={def.schema} value={doc} onChange={(v) => { setDoc(v); setSaved(null) }} errors={errors} creating={creating} />
          <ErrorText error={formError} />
          {saved && (
            <p className="ok" role="status">
              {saved}
            </p>
          )}
          <div className="actions">
            <button className="primary" type="submit" disabled={busy}>
              {creating ? 'Create' : 'Save'}
            </button>
            {!creating && (
              <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            )}
          </div>
        </form>
        <aside>
          <Extras def={def} doc={doc} stored={base} creating={creating} />
        </aside>
      </div>
      <Confirm
        open={confirmDelete}
        danger
        title={`Delete this ${def.single}?`}
        confirmLabel="Delete"
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => void remove()}
      >
        <p>
          <code>{id}</code> will be deleted.
        </p>
      </Confirm>
    </div>
  )
}

/** strip drops what the server sets (created, updated, machine names) and empty strings. */
function strip(doc: Doc): Doc {
  const out: Doc = {}
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'created' || k === 'updated' || k === 'machine_name') continue
    if (v === '' || v === undefined) continue
    out[k] = v
  }
  return out
}
