import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { CSS } from './styles.js';

/** Server-rendered ops pages (SPEC §9): one stylesheet inline, no script, no external asset. */

export function Layout(props: { title: string; refreshSeconds?: number; nav?: boolean; meta?: string; children?: Child }) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
          <title>{props.title}</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          {props.nav ? (
            <header>
              <h1>secondcall · operations</h1>
              <span class="meta">{props.meta}</span>
              <nav>
                <a href="/ops">Dashboard</a>
                <a href="/ops/queues">Queues</a>
                <form method="post" action="/ops/logout">
                  <button type="submit">Log out</button>
                </form>
              </nav>
            </header>
          ) : null}
          {props.children}
        </body>
      </html>
    </>
  );
}

/** A white panel with a heading and, in small print beside it, a note. */
export function Card(props: { title: string; note?: string; children?: Child }) {
  return (
    <div class="card">
      <h2>
        {props.title}
        {props.note === undefined ? null : (
          <>
            {' '}
            <small>{props.note}</small>
          </>
        )}
      </h2>
      {props.children}
    </div>
  );
}

/** A page that only says something, e.g. what is not there. */
export function MessagePage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title} nav>
      <main>
        <Card title={props.title}>
          <p>{props.message}</p>
        </Card>
      </main>
    </Layout>
  );
}
