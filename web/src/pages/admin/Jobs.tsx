import { post, type List } from '../../api/client'
import type { Job } from '../../api/types'
import { useGet, useTitle } from '../../app/hooks'
import { ErrorText, Loading, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'

export default function Jobs() {
  useTitle('Jobs')
  const jobs = useGet<List<Job>>('/jobs?limit=100', 5000)
  const running = (j: Job) => j.status === 'queued' || j.status === 'running'
  return (
    <div>
      <h1>Jobs</h1>
      <p className="muted">Background work such as re-evaluating a segment on every profile. This page refreshes every 5 seconds.</p>
      <ErrorText error={jobs.error} />
      {!jobs.data && !jobs.error && <Loading />}
      {jobs.data && (
        <Table
          caption="Jobs"
          rowKey={(j) => j.id}
          rows={jobs.data.items}
          columns={[
            { key: 'k', label: 'Kind', render: (j) => j.kind },
            { key: 's', label: 'Status', render: (j) => j.status + (j.error ? ': ' + j.error : '') },
            {
              key: 'p',
              label: 'Progress',
              render: (j) => (
                <span>
                  <progress max={Math.max(1, j.total)} value={j.done} aria-label={`${j.kind} progress`} /> {j.done}/{j.total}
                </span>
              ),
            },
            { key: 'c', label: 'Created', render: (j) => fmtTime(j.created) },
            { key: 'f', label: 'Finished', render: (j) => fmtTime(j.finished) },
            {
              key: 'a',
              label: 'Actions',
              render: (j) =>
                running(j) ? (
                  <button onClick={() => post(`/jobs/${encodeURIComponent(j.id)}/cancel`).then(jobs.reload, jobs.reload)}>Cancel</button>
                ) : null,
            },
          ]}
        />
      )}
    </div>
  )
}
