/** Hash routes: `#/` is the search view, `#/collections/<name>` a collection's view. */
import { useEffect, useState } from 'preact/hooks';

export type Route = { view: 'search' } | { view: 'collection'; name: string };

export function parseRoute(hash: string): Route {
  const m = /^#\/collections\/([^/?#]+)/.exec(hash);
  if (m) {
    try {
      return { view: 'collection', name: decodeURIComponent(m[1]) };
    } catch {
      // a malformed escape: fall through to the search view
    }
  }
  return { view: 'search' };
}

export function hrefOf(route: Route): string {
  return route.view === 'collection' ? `#/collections/${encodeURIComponent(route.name)}` : '#/';
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
