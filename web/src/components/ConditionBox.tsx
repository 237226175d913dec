import { useId } from 'react'
import { offsetOf, positioned } from '../lib/errors'

/**
 * ConditionBox is a labelled editor for a condition of the query language. An error
 * from the API's parser ("line L, col C: message") is shown under it with a caret at
 * the position, and the caret is moved there on request.
 */
export function ConditionBox({
  label,
  value,
  onChange,
  error,
  placeholder,
  help,
  onSubmit,
  rows = 2,
}: {
  label: string
  value: string
  onChange: (v: string) => void
  error?: string
  placeholder?: string
  help?: string
  onSubmit?: () => void
  rows?: number
}) {
  const id = useId()
  const pos = error ? positioned(error) : null
  const lines = value.split('\n')
  const lineText = pos ? (lines[pos.line - 1] ?? '') : ''
  const jump = () => {
    const el = document.getElementById(id) as HTMLTextAreaElement | null
    if (!el || !pos) return
    const off = offsetOf(value, pos.line, pos.col)
    el.focus()
    el.setSelectionRange(off, Math.min(value.length, off + 1))
  }
  return (
    <div className={'field condition' + (error ? ' invalid' : '')}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={rows}
        spellCheck={false}
        value={value}
        placeholder={placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? id + '-err' : help ? id + '-help' : undefined}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && onSubmit) {
            e.preventDefault()
            onSubmit()
          }
        }}
      />
      {help && !error && (
        <small id={id + '-help'} className="help">
          {help}
        </small>
      )}
      {error && (
        <div id={id + '-err'} className="field-error" role="alert">
          {pos ? (
            <>
              <pre className="caret" aria-hidden="true">
                {lineText}
                {'\n'}
                {' '.repeat(Math.max(0, pos.col - 1))}^
              </pre>
              <span>
                Line {pos.line}, column {pos.col}: {pos.message}{' '}
                <button type="button" className="link" onClick={jump}>
                  Show
                </button>
              </span>
            </>
          ) : (
            <span>{error}</span>
          )}
        </div>
      )}
    </div>
  )
}
