// What the event source page offers to copy: the page snippet and a curl example.

/** trackSnippet is the loader of the browser tracker (/tracker.js) for a source. */
export function trackSnippet(origin: string, sourceId: string): string {
  return `<script>
(function(w,d,u){w.thamesthrive=w.thamesthrive||function(){(w.thamesthrive.q=w.thamesthrive.q||[]).push(arguments)};
var s=d.createElement('script');s.async=true;s.src=u;d.head.appendChild(s)})(window,document,'${origin}/tracker.js');
thamesthrive('init', {source: ${JSON.stringify(sourceId)}});
</script>`
}

/** curlExample sends one event to a source: /track for rest sources, /collect for webhooks. */
export function curlExample(origin: string, sourceId: string, type: string): string {
  if (type === 'webhook') {
    return `curl -X POST '${origin}/collect/purchase/${sourceId}' \\
  -H 'Content-Type: application/json' \\
  -d '{"order_id": "A-1001", "total": 42.5}'`
  }
  return `curl -X POST '${origin}/track' \\
  -H 'Content-Type: application/json' \\
  -d '{"source": {"id": "${sourceId}"},
       "profile": {"id": "customer-1"},
       "events": [{"type": "sign-in", "properties": {"email": {"main": "ann@example.com"}}}]}'`
}

