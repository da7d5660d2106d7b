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
