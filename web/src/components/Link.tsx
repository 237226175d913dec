import type { AnchorHTMLAttributes, MouseEvent } from 'react'
import { href, navigate } from '../lib/router'

/** Link is an anchor (keyboard and middle-click work) that navigates in the app. */
export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(e)
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(to)
  }
  return <a {...rest} href={href(to)} onClick={onClick} />
}
