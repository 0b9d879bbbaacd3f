import { useEffect, useState } from "preact/hooks";
import { api, ApiKey, Me } from "./api";
import { when } from "./format";

interface User {
  id: string;
  username: string;
  role: string;
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
  const load = () => api<ApiKey[]>("GET", "/api/api-keys").then(setKeys).catch((e) => setError((e as Error).message));
  useEffect(() => void load(), []);

  async function create(e: Event) {
    e.preventDefault();
    setError("");
    setMade(null);
    try {
      const body: Record<string, string> = { name: name.trim(), role };
      if (expires) body.expires_in = expires;
      const k = await api<{ name: string; key: string }>("POST", "/api/api-keys", body);
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
      await api("DELETE", "/api/api-keys/" + k.id);
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
                  <td>{k.name}</td>
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

function Users() {
  const [users, setUsers] = useState<User[] | null>(null);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("viewer");
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const load = () => api<User[]>("GET", "/api/users").then(setUsers).catch((e) => setMessage({ text: (e as Error).message, error: true }));
  useEffect(() => void load(), []);

  async function create(e: Event) {
    e.preventDefault();
    setMessage(null);
    try {
      await api("POST", "/api/users", { username: username.trim(), password, role });
      setMessage({ text: `${username} added as ${role}`, error: false });
      setUsername("");
      setPassword("");
      await load();
    } catch (err) {
      setMessage({ text: (err as Error).message, error: true });
    }
  }
  async function signOut(u: User) {
    if (!confirm(`End every session of ${u.username}?`)) return;
    try {
      const r = await api<{ sessions_ended: number }>("DELETE", `/api/users/${u.id}/sessions`);
      setMessage({ text: `${u.username}: ${r.sessions_ended} sessions ended`, error: false });
    } catch (err) {
      setMessage({ text: (err as Error).message, error: true });
    }
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
      {message && <p class={message.error ? "error" : "note"} role={message.error ? "alert" : "status"}>{message.text}</p>}
      {users && (
        <div class="table-wrap">
          <table class="users">
            <thead>
              <tr><th>User</th><th>Role</th><th>Since</th><th /></tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-username={u.username}>
                  <td>{u.username}</td>
                  <td>{u.role}</td>
                  <td>{when(u.created_at)}</td>
                  <td><button type="button" onClick={() => signOut(u)}>End sessions</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// Users, roles and API keys. Everyone manages their own keys; users are an admin's.
export function Settings({ me }: { me: Me }) {
  return (
    <section>
      <h2>Settings</h2>
      {me.role === "admin" ? <Users /> : <p class="muted">Users and roles are managed by an admin.</p>}
      <ApiKeys me={me} />
    </section>
  );
}
