import { Component, type ReactNode } from 'react'

/** ErrorBoundary shows a page's rendering failure instead of a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null }
  static getDerivedStateFromError(error: Error) {
    return { error }
  }
  render() {
    if (this.state.error) {
      return (
        <div role="alert" className="error">
          <h1>This page failed</h1>
          <p>{this.state.error.message}</p>
          <button onClick={() => location.reload()}>Reload</button>
        </div>
      )
    }
    return this.props.children
  }
}
