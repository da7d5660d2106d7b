// Compiled (not run) by types.test.mjs with `tsc --strict`: a site's use of
// the SDK type-checks against server/web/qrlogin.d.ts.
import QRLoginDefault, { QRLogin, QRLoginError, type LoginResult, type PublicUser, type StartOptions } from "../../../server/web/qrlogin.js";

const options: StartOptions = {
  server: "https://login.example",
  element: "#login",
  onScanned: (user: PublicUser | null) => console.log(user?.display_name, user?.avatar_url),
  onConfirmed: (result) => console.log(result.user.username, result.expires_in),
  onCancelled: () => console.log("cancelled"),
  onExpired: () => console.log("expired"),
  onError: (error) => console.log(error.code, error.status, error instanceof QRLogin.QRLoginError),
  onCode: (code) => console.log(code.url, code.svg.length, code.expiresAt.getTime()),
  onState: (state) => {
    if (state === "signed_in") console.log("done");
  },
  rotate: true,
  rotateForMs: 300_000,
  styles: false,
};

export async function signIn(): Promise<string> {
  const session = QRLogin.start(options);
  session.restart();
  console.log(session.state, session.link);
  const result: LoginResult = await session;
  const again: LoginResult = await QRLoginDefault.start().result;
  globalThis.QRLogin.start({ element: document.body }).stop();
  const error: QRLoginError | null = null;
  console.log(error);
  return result.access_token + result.token_type + again.user.display_name + QRLogin.version;
}
