// Times as people read them.

/** "0:47" for 47 seconds; never negative. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

/** "14:03:12 (just now)" / "14:03:12 (2 minutes ago)". */
export function formatWhen(iso: string, now = Date.now()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const clock = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const ago = Math.round((now - at.getTime()) / 1000);
  let relative: string;
  if (ago < 10) relative = "just now";
  else if (ago < 60) relative = `${ago} seconds ago`;
  else if (ago < 120) relative = "a minute ago";
  else if (ago < 3600) relative = `${Math.floor(ago / 60)} minutes ago`;
  else relative = at.toLocaleDateString();
  return `${clock} (${relative})`;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago", then the date. */
export function formatAgo(iso: string, now = Date.now()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const seconds = Math.round((now - at.getTime()) / 1000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return plural(Math.floor(seconds / 60), "minute");
  if (seconds < 86_400) return plural(Math.floor(seconds / 3600), "hour");
  if (seconds < 7 * 86_400) return plural(Math.floor(seconds / 86_400), "day");
  return at.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" });
}

/** "25 Nov 2026, 14:03" */
export function formatDateTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
