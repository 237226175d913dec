import { useEffect, useState } from 'react'
import { ConditionBox } from './ConditionBox'
import { Field } from './ui'
import { getPath, join, setPath, type Errors, type Schema } from '../lib/schema'
import { jsonError } from '../lib/jsonedit'

/**
 * SchemaForm renders a form for a value from its JSON Schema: one labelled control per
 * property, nested objects as fieldsets, lists of objects as repeatable groups. errors
 * are keyed by field path (the API's `field`), and shown next to their control.
 */
export function SchemaForm<T>({
  schema,
  value,
  onChange,
  errors,
  creating,
}: {
  schema: Schema
  value: T
  onChange: (v: T) => void
  errors: Errors
  creating: boolean
}) {
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([k, sub]) => (
        <Control
          key={k}
          path={k}
          schema={sub}
          required={(schema.required ?? []).includes(k)}
          root={value}
          onRoot={onChange as (v: unknown) => void}
          errors={errors}
          creating={creating}
        />
      ))}
    </>
  )
}

function labelOf(path: string, s: Schema): string {
  if (s.title) return s.title
  const last = path.split('.').pop()!.replace(/\[\d+\]$/, '')
  return (last[0].toUpperCase() + last.slice(1)).replace(/_/g, ' ')
}

function Control({
  path,
  schema,
  required,
  root,
  onRoot,
  errors,
  creating,
}: {
  path: string
  schema: Schema
  required: boolean
  root: unknown
  onRoot: (v: unknown) => void
  errors: Errors
  creating: boolean
}) {
  const value = getPath(root, path)
  const set = (v: unknown) => onRoot(setPath(root, path, v))
  const label = labelOf(path, schema) + (required ? ' (required)' : '')
  const error = errors[path]
  const readOnly = schema.readOnly || (schema['x-readonly-after-create'] && !creating)
  const help = schema.description

  if (schema.type === 'object' && schema['x-widget'] !== 'json') {
    return (
      <fieldset>
        <legend>{labelOf(path, schema)}</legend>
        {help && <p className="help">{help}</p>}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {Object.entries(schema.properties ?? {}).map(([k, sub]) => (
          <Control
            key={k}
            path={join(path, k)}
            schema={sub}
            required={(schema.required ?? []).includes(k)}
            root={root}
            onRoot={onRoot}
            errors={errors}
            creating={creating}
          />
        ))}
      </fieldset>
    )
  }
  if (schema.type === 'array' && schema.items?.type === 'object') {
    const items = (value as unknown[] | undefined) ?? []
    return (
      <fieldset>
        <legend>{labelOf(path, schema)}</legend>
        {help && <p className="help">{help}</p>}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {items.map((_, i) => (
          <div key={i} className="repeat">
            {Object.entries(schema.items!.properties ?? {}).map(([k, sub]) => (
              <Control
                key={k}
                path={`${path}[${i}].${k}`}
                schema={sub}
                required={(schema.items!.required ?? []).includes(k)}
                root={root}
                onRoot={onRoot}
                errors={errors}
                creating={creating}
              />
            ))}
            <button type="button" onClick={() => set(items.filter((_, j) => j !== i))}>
              Remove {labelOf(path, schema).toLowerCase()} {i + 1}
            </button>
          </div>
        ))}
        <button type="button" onClick={() => set([...items, {}])}>
          Add
        </button>
      </fieldset>
    )
  }
  if (schema['x-widget'] === 'condition') {
    return <ConditionBox label={label} value={(value as string) ?? ''} onChange={(v) => set(v || undefined)} error={error} help={help} rows={3} />
  }
  if (schema['x-widget'] === 'json') {
    return <JsonControl label={label} value={value} onChange={set} error={error} help={help} />
  }
  return (
    <Field label={label} help={help} error={error}>
      {(p) => {
        if (schema.type === 'boolean') {
          return <input {...p} type="checkbox" checked={Boolean(value)} onChange={(e) => set(e.target.checked)} disabled={readOnly} />
        }
        if (schema.enum) {
          return (
            <select {...p} value={(value as string) ?? ''} onChange={(e) => set(e.target.value || undefined)} disabled={readOnly}>
              {!required && <option value="">(none)</option>}
              {schema.enum.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          )
        }
        if (schema.type === 'array') {
          return <TagsInput {...p} value={(value as string[]) ?? []} onChange={set} readOnly={readOnly} />
        }
        if (schema.type === 'integer' || schema.type === 'number') {
          return (
            <input
              {...p}
              type="number"
              value={value === undefined ? '' : String(value)}
              readOnly={readOnly}
              onChange={(e) => set(e.target.value === '' ? undefined : Number(e.target.value))}
            />
          )
        }
        if (schema['x-widget'] === 'textarea' || schema['x-widget'] === 'code') {
          return (
            <textarea
              {...p}
              rows={schema['x-widget'] === 'code' ? 6 : 3}
              spellCheck={schema['x-widget'] !== 'code'}
              value={(value as string) ?? ''}
              readOnly={readOnly}
              onChange={(e) => set(e.target.value || undefined)}
            />
          )
        }
        return (
          <input
            {...p}
            type={schema['x-widget'] === 'password' ? 'password' : 'text'}
            autoComplete={schema['x-widget'] === 'password' ? 'new-password' : 'off'}
            value={(value as string) ?? ''}
            readOnly={readOnly}
            onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)}
          />
        )
      }}
    </Field>
  )
}

/** TagsInput edits a list of strings as comma-separated text. */
function TagsInput({
  value,
  onChange,
  readOnly,
  ...p
}: {
  value: string[]
  onChange: (v: string[]) => void
  readOnly?: boolean
  id: string
}) {
  const [text, setText] = useState(value.join(', '))
  // Only a change of value from outside (a reload, a merge) rewrites the text; what the
  // user is typing (a trailing comma, spaces) stays as typed.
  useEffect(() => {
    if (split(text).join('\u0000') !== value.join('\u0000')) setText(value.join(', '))
  }, [value])
  return <input {...p} type="text" value={text} readOnly={readOnly} placeholder="comma-separated" onChange={(e) => {
    setText(e.target.value)
    onChange(split(e.target.value))
  }} />
}

function split(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
}

/** JsonControl edits a JSON value as text; invalid JSON is shown and not applied. */
function JsonControl({ label, value, onChange, error, help }: { label: string; value: unknown; onChange: (v: unknown) => void; error?: string; help?: string }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2))
  const [local, setLocal] = useState<string | undefined>()
  return (
    <Field label={label} help={help} error={local ?? error}>
      {(p) => (
        <textarea
          {...p}
          className="code"
          rows={8}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value)
            if (e.target.value.trim() === '') {
              setLocal(undefined)
              onChange(undefined)
              return
            }
            const err = jsonError(e.target.value)
            setLocal(err ?? undefined)
            if (!err) onChange(JSON.parse(e.target.value))
          }}
        />
      )}
    </Field>
  )
}
