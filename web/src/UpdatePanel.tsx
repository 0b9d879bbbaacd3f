// The update panel of a container page: moving the container to another image, stage by stage.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiPath, hashPath } from "./api";
import { bytes } from "./format";
import { onFrame } from "./live";

interface Stage {
  stage: string;
  message: string;
  error: string | null;
  timestamp: string;
}
interface Layer {
  id: string;
  status: string;
  current: number;
  total: number;
  percent: number;
}

const endings = ["completed", "failed", "rollback"];

// Moving a container to another image: the agent pulls, recreates, checks health and rolls back on
// failure; every stage and each layer's pull progress arrive on /ws and are shown as they come.
export function UpdatePanel({ hostId, containerId, image, onReplaced }: {
  hostId: string;
  containerId: string;
  image: string;
  onReplaced: (newId: string) => void;
}) {
  const [target, setTarget] = useState(image);
  const [open, setOpen] = useState(false);
  const [stages, setStages] = useState<Stage[]>([]);
  const [layers, setLayers] = useState<Record<string, Layer>>({});
  const [error, setError] = useState("");
  const [running, setRunning] = useState(false);
  const [newId, setNewId] = useState("");
  const off = useRef<(() => void) | null>(null);

  useEffect(() => setTarget(image), [image]);
  useEffect(() => () => off.current?.(), []);

  async function start(e: Event) {
    e.preventDefault();
    setStages([]);
    setLayers({});
    setError("");
    setNewId("");
    setRunning(true);
    off.current?.();
    off.current = onFrame((f) => {
      if (f.host_id !== hostId) return;
      if (f.type === "update_progress" && f.container_id === containerId) {
        // Docker's pull stream also reports on the tag itself ("Pulling from ..."): only layers get a bar.
        if (typeof f.layer === "string" && /^[0-9a-f]{12,}$/.test(f.layer)) {
          const l: Layer = {
            id: f.layer,
            status: String(f.message ?? ""),
            current: Number(f.current ?? 0),
            total: Number(f.total ?? 0),
            percent: Number(f.percent ?? 0),
          };
          setLayers((all) => ({ ...all, [l.id]: l }));
          return;
        }
        const s = f as unknown as Stage;
        setStages((all) => [...all, s]);
        if (endings.includes(s.stage)) setRunning(false);
      } else if (f.type === "update_complete" && f.old_container_id === containerId) {
        setNewId(String(f.new_container_id));
        onReplaced(String(f.new_container_id));
      }
    });
    try {
      await api("POST", apiPath("hosts", hostId, "containers", containerId, "update"), { image: target.trim() });
    } catch (err) {
      setError((err as Error).message);
      setRunning(false);
    }
  }

  const last = stages[stages.length - 1];
  const outcome = last && endings.includes(last.stage) ? last.stage : "";
  return (
    <section aria-label="Update" class="panel">
      <div class="title-row">
        <h3>Update to another image</h3>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "Hide" : "Update…"}
        </button>
      </div>
      {open && (
        <>
          <form class="toolbar" onSubmit={start}>
            <label>
              Image <input name="image" value={target} size={40} onInput={(e) => setTarget(e.currentTarget.value)} required />
            </label>
            <button type="submit" class="primary" disabled={running || !target.trim()}>
              {running ? "Updating…" : "Start the update"}
            </button>
          </form>
          {error && <p class="error" role="alert">{error}</p>}
          {stages.length > 0 && (
            <ol class="stages" aria-live="polite">
              {stages.map((s, i) => (
                <li key={i} data-stage={s.stage} class={s.error ? "bad" : ""}>
                  <strong>{s.stage}</strong> {s.message}
                  {s.error && <span class="error-text">: {s.error}</span>}
                </li>
              ))}
            </ol>
          )}
          {Object.keys(layers).length > 0 && (
            <ul class="layers" aria-label="Layers">
              {Object.values(layers).map((l) => (
                <li key={l.id} data-layer={l.id}>
                  <code>{l.id.slice(0, 12)}</code> <span class="layer-status">{l.status}</span>
                  <progress max={100} value={l.total > 0 ? l.percent : l.status.startsWith("Pull complete") || l.status.startsWith("Already") ? 100 : undefined} />
                  <span class="num">{l.total > 0 ? `${bytes(l.current)} of ${bytes(l.total)}` : ""}</span>
                </li>
              ))}
            </ul>
          )}
          {outcome && (
            <p class={outcome === "completed" ? "note" : "error"} role="status" data-outcome={outcome}>
              {outcome === "completed" ? "Updated." : outcome === "rollback" ? "Rolled back to the original container." : "The update failed."}{" "}
              {newId && <a href={hashPath("hosts", hostId, "containers", newId)}>Open the new container</a>}
            </p>
          )}
        </>
      )}
    </section>
  );
}
