import { Layout } from './layout.js';

/** The form that trades an ops or admin API key for a session cookie (routes in http/routes/ops.ts). */
export function LoginPage(props: { next: string; error?: string }) {
  return (
    <Layout title="Log in · secondcall operations">
      <main>
        <form class="login" method="post" action="/ops/login">
          <h1>secondcall operations</h1>
          {props.error ? <p class="error" role="alert">{props.error}</p> : null}
          <label for="key">API key (role ops or admin)</label>
          <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
          <input type="hidden" name="next" value={props.next} />
          <button type="submit">Log in</button>
        </form>
      </main>
    </Layout>
  );
}
