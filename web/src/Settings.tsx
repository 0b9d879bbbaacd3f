// The settings page: users and roles (admins), one's own password, and API keys.
import { useEffect, useState } from "preact/hooks";
import { api, apiPath, ApiKey, Me, query } from "./api";
import { when } from "./format";

interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  created_at: string;
}

const roles = ["viewer", "operator", "admin"] as const;

function ApiKeys({ me }: { me: Me }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState<string>("viewer");
  const [expires, setExpires] = useState("90d");
  const [made, setMade] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState("");
  const load = () => api<ApiKey[]>("GET", apiPath("api-keys")).then(setKeys).catch((e) => setError((e as Error).message));
  useEffect(() => void load(), []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    setMade(null);
    try {
      const body: Record<string, string> = { name: name.trim(), role };
      if (expires) body.expires_in = expires;
      const k = await api<{ name: string; key: string }>("POST", apiPath("api-keys"), body);
      setMade(k);
      setName("");
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  async function revoke(k: ApiKey) {
    if (!confirm(`Revoke the key "${k.name}"? Programs using it stop working at once.`)) return;
    try {
      await api("DELETE", apiPath("api-keys", k.id));
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  const mine = roles.slice(0, roles.indexOf(me.role) + 1);
  return (
    <section aria-label="API keys">
      <h3>API keys</h3>
      <form class="toolbar" onSubmit={create} aria-label="New API key">
        <label>
          Name <input name="key-name" value={name} maxLength={100} required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Role{" "}
          <select name="key-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {mine.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>
          Expires in{" "}
          <select name="key-expires" value={expires} onChange={(e) => setExpires(e.currentTarget.value)}>
            <option value="1d">1 day</option>
            <option value="30d">30 days</option>
            <option value="90d">90 days</option>
            <option value="366d">1 year</option>
            <option value="">never</option>
          </select>
        </label>
        <button type="submit" class="primary">Create key</button>
      </form>
      {made && (
        <p class="note" role="status">
          Key “{made.name}”, shown this once: <code data-new-key>{made.key}</code>
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {keys && (
        <div class="table-wrap">
          <table class="keys">
            <thead>
              <tr><th>Name</th><th>Owner</th><th>Role</th><th>Created</th><th>Expires</th><th>State</th><th /></tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-key-name={k.name}>
                  <td class="name" title={k.name}>{k.name}</td>
                  <td>{k.username}</td>
                  <td>{k.role}</td>
                  <td>{when(k.created_at)}</td>
                  <td>{k.expires_at ? when(k.expires_at) : "never"}</td>
                  <td>{k.revoked ? "revoked" : "active"}</td>
                  <td>
                    {!k.revoked && (
                      <button type="button" onClick={() => revoke(k)}>Revoke</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// An admin's view of the users: add one, change a role, disable, sign out everywhere, delete. The server
// keeps at least one enabled admin and answers 409 with its reason otherwise; that reason is shown as is.
function Users({ me }: { me: Me }) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("viewer");
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const load = () => api<User[]>("GET", apiPath("users")).then(setUsers).catch((e) => setMessage({ text: (e as Error).message, error: true }));
  useEffect(() => void load(), []);

  // One change at a time; whatever happened, the list is read again so it shows the server's state (a
  // refused role change puts the select back).
  async function change(u: User, what: string, request: () => Promise<string>) {
    setBusy(u.id);
    setMessage(null);
    try {
      setMessage({ text: await request(), error: false });
    } catch (err) {
      setMessage({ text: `${what} ${u.username}: ${(err as Error).message}`, error: true });
    } finally {
      setBusy(null);
      await load();
    }
  }

  async function create(e: Event) {
    e.preventDefault();
    setMessage(null);
    try {
      await api("POST", apiPath("users"), { username: username.trim(), password, role });
      setMessage({ text: `${username.trim()} added as ${role}`, error: false });
      setUsername("");
      setPassword("");
      await load();
    } catch (err) {
      setMessage({ text: (err as Error).message, error: true });
    }
  }
  const setRoleOf = (u: User, r: string) =>
    change(u, "change the role of", async () => {
      await api("PATCH", apiPath("users", u.id), { role: r });
      return `${u.username} is now ${r}`;
    });
  const setDisabled = (u: User, disabled: boolean) =>
    change(u, disabled ? "disable" : "enable", async () => {
      await api("PATCH", apiPath("users", u.id), { disabled });
      return disabled ? `${u.username} is disabled: no sign-in, sessions and keys stop working` : `${u.username} is enabled`;
    });
  function signOutEverywhere(u: User) {
    if (!confirm(`Sign ${u.username} out everywhere and revoke their API keys?`)) return;
    return change(u, "sign out", async () => {
      const r = await api<{ sessions_ended: number; keys_revoked: number }>(
        "DELETE", apiPath("users", u.id, "sessions") + query({ keys: true }));
      const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
      return `${u.username}: ${n(r.sessions_ended, "session")} ended, ${n(r.keys_revoked, "API key")} revoked`;
    });
  }
  function remove(u: User) {
    if (!confirm(`Delete the user ${u.username}? Their sessions and API keys end with them.`)) return;
    return change(u, "delete", async () => {
      await api("DELETE", apiPath("users", u.id));
      return `${u.username} deleted`;
    });
  }

  return (
    <section aria-label="Users">
      <h3>Users and roles</h3>
      <p class="muted">
        A viewer looks; an operator also starts, stops, updates and removes containers; an admin also adds hosts,
        users and keys.
      </p>
      <form class="toolbar" onSubmit={create} aria-label="New user">
        <label>
          User name <input name="new-username" value={username} required maxLength={64} pattern="[A-Za-z0-9._@-]+" onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password <input name="new-password" type="password" autocomplete="new-password" minLength={8} required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <label>
          Role{" "}
          <select name="new-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {roles.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <button type="submit" class="primary">Add user</button>
      </form>
      {message && <p class={message.error ? "error" : "note"} role={message.error ? "alert" : "status"} data-users-message>{message.text}</p>}
      {users && (
        <div class="table-wrap">
          <table class="users">
            <thead>
              <tr><th>User</th><th>Role</th><th>State</th><th>Since</th><th>Actions</th></tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-username={u.username} data-disabled={u.disabled ? "true" : "false"}>
                  <td class="name" title={u.username}>
                    {u.username} {u.username === me.username && <small class="muted">(you)</small>}
                  </td>
                  <td>
                    <select name="user-role" aria-label={`Role of ${u.username}`} value={u.role} disabled={busy !== null}
                            onChange={(e) => setRoleOf(u, e.currentTarget.value)}>
                      {roles.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  </td>
                  <td>
                    <span class={"badge " + (u.disabled ? "disabled" : "enabled")}>{u.disabled ? "disabled" : "active"}</span>
                  </td>
                  <td>{when(u.created_at)}</td>
                  <td class="actions">
                    <button type="button" disabled={busy !== null} onClick={() => setDisabled(u, !u.disabled)}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                    <button type="button" disabled={busy !== null} onClick={() => signOutEverywhere(u)}>
                      Sign out everywhere
                    </button>
                    <button type="button" disabled={busy !== null} onClick={() => remove(u)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// Anyone's own password. The server checks the current one (403 when wrong) and, on success, ends the
// user's other sessions: this one stays signed in.
function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setMessage(null);
    if (next !== again) return setMessage({ text: "The new password and its repetition differ: type them again.", error: true });
    setBusy(true);
    try {
      const r = await api<{ sessions_ended?: number }>("POST", apiPath("auth", "password"), { current, new: next });
      const ended = r?.sessions_ended;
      setMessage({
        text: "Password changed. " + (ended === undefined ? "Your other sessions were signed out." : `Other sessions signed out: ${ended}.`),
        error: false,
      });
      setCurrent("");
      setNext("");
      setAgain("");
    } catch (err) {
      setMessage({ text: (err as Error).message, error: true });
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-label="My password">
      <h3>Change my password</h3>
      <form class="toolbar" onSubmit={submit} aria-label="Change my password">
        <label>
          Current password <input name="current-password" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        </label>
        <label>
          New password <input name="new-own-password" type="password" autocomplete="new-password" minLength={8} required value={next} onInput={(e) => setNext(e.currentTarget.value)} />
        </label>
        <label>
          New password again <input name="new-own-password-again" type="password" autocomplete="new-password" minLength={8} required value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>Change password</button>
      </form>
      {message && <p class={message.error ? "error" : "note"} role={message.error ? "alert" : "status"} data-password-message>{message.text}</p>}
    </section>
  );
}

// Users, roles, one's own password and API keys. Everyone manages their own password and keys; users are
// an admin's.
export function Settings({ me }: { me: Me }) {
  return (
    <section>
      <h2>Settings</h2>
      {me.role === "admin" ? <Users me={me} /> : <p class="muted">Users and roles are managed by an admin.</p>}
      <ChangePassword />
      <ApiKeys me={me} />
    </section>
  );
}
