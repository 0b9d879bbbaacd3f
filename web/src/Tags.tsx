// Tags on hosts and containers: shown as chips, chosen in a filter, edited by operators.
import { api, apiPath } from "./api";

export function TagChips({ tags }: { tags?: string[] }) {
  if (!tags?.length) return null;
  return (
    <span class="tags">
      {tags.map((t) => (
        <span key={t} class="tag" data-tag={t}>
          {t}
        </span>
      ))}
    </span>
  );
}

// "all" and every tag the items carry, for a select.
export function TagFilter({ items, value, onChange }: { items: { tags?: string[] }[]; value: string; onChange: (tag: string) => void }) {
  const all = [...new Set(items.flatMap((i) => i.tags ?? []))].sort();
  if (all.length === 0 && !value) return null;
  return (
    <label>
      Tag{" "}
      <select name="tag-filter" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">all</option>
        {all.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
    </label>
  );
}

export const hasTag = (item: { tags?: string[] }, tag: string) => !tag || (item.tags ?? []).includes(tag);

// Asks for the tags (comma-separated) and stores them; the new list, or null when nothing changed.
// A container's tags from its compose project are not the user's: they are neither shown nor sent.
export async function editTags(path: string[], what: string, current: string[]): Promise<string[] | null> {
  const text = prompt(`Tags of ${what} (comma-separated; letters, digits and - _ . : /)`, current.join(", "));
  if (text === null) return null;
  const tags = text
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const saved = await api<{ tags: string[] }>("PUT", apiPath(...path, "tags"), { tags });
  return saved.tags;
}
