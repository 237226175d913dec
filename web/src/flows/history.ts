// Undo/redo for the flow editor: a bounded list of past states and of undone ones.
// A change records the state before it; changes with the same coalescing key in a row
// (typing in one field of one node) make one step.

export class History<T> {
  private past: T[] = []
  private future: T[] = []
  private lastKey: string | null = null

  constructor(private readonly limit = 100) {}

  /** record saves `before`, the state a change is about to replace. */
  record(before: T, key: string | null = null): void {
    if (key !== null && key === this.lastKey) return
    this.past.push(before)
    if (this.past.length > this.limit) this.past.shift()
    this.future = []
    this.lastKey = key
  }

  /** undo answers the state to go back to, given the current one (null: nothing to undo). */
  undo(current: T): T | null {
    const prev = this.past.pop()
    if (prev === undefined) return null
    this.future.push(current)
    this.lastKey = null
    return prev
  }

  /** redo answers the state an undo left, given the current one. */
  redo(current: T): T | null {
    const next = this.future.pop()
    if (next === undefined) return null
    this.past.push(current)
    this.lastKey = null
    return next
  }

  /** breakCoalescing makes the next change a step of its own. */
  breakCoalescing(): void {
    this.lastKey = null
  }

  clear(): void {
    this.past = []
    this.future = []
    this.lastKey = null
  }

  get canUndo(): boolean {
    return this.past.length > 0
  }

  get canRedo(): boolean {
    return this.future.length > 0
  }
}
