import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

/** TimeChart draws counts over time (bars) with uPlot, sized to its container. */
export function TimeChart({ label, times, counts, color = '#0b5cad' }: { label: string; times: number[]; counts: number[]; color?: string }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const width = () => Math.max(240, el.clientWidth)
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { size: 50 }],
        series: [{}, { label, stroke: color, fill: color + '33', width: 2, paths: uPlot.paths.bars!({ size: [0.8, 40] }) }],
      },
      [times, counts],
      el,
    )
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      plot.destroy()
    }
  }, [label, times, counts, color])
  const total = counts.reduce((a, b) => a + b, 0)
  return (
    <figure className="chart">
      <div ref={box} role="img" aria-label={`${label}: ${total} in ${counts.length} intervals`} />
    </figure>
  )
}

/** Bars is a ranked list with proportional bars (no chart library needed). */
export function Bars({ items, label }: { items: { value: string; count: number }[]; label: string }) {
  const max = Math.max(1, ...items.map((i) => i.count))
  if (items.length === 0) return <p className="muted">No {label} in this range.</p>
  return (
    <ol className="bars" aria-label={label}>
      {items.map((i) => (
        <li key={i.value}>
          <span className="bar-label">{i.value}</span>
          <progress max={max} value={i.count} aria-label={`${i.value}: ${i.count}`} />
          <span className="bar-count">{i.count.toLocaleString('en-GB')}</span>
        </li>
      ))}
    </ol>
  )
}
