import { useGet, useTitle } from '../../app/hooks'
import { ErrorText, KeyValues, Loading } from '../../components/ui'

interface SystemInfo {
  version: string
  backend: string
  go_version: string
  started: string
  uptime_seconds: number
  health: Record<string, string>
}

export default function System() {
  useTitle('System')
  const info = useGet<SystemInfo>('/system', 10_000)
  return (
    <div>
      <h1>System</h1>
      <ErrorText error={info.error} />
      {!info.data && !info.error && <Loading />}
      {info.data && (
        <>
          <KeyValues
            data={{
              Version: info.data.version,
              Backend: info.data.backend,
              Go: info.data.go_version,
              Started: info.data.started,
              Uptime: `${Math.floor(info.data.uptime_seconds / 3600)} h ${Math.floor((info.data.uptime_seconds % 3600) / 60)} min`,
            }}
          />
          <h2>Health</h2>
          <KeyValues data={info.data.health} />
        </>
      )}
    </div>
  )
}
