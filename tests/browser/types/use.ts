// Compiled (not run) by types.test.mjs with `tsc --strict`: a site's use of
// the SDK type-checks against server/web/qrlogin.d.ts.
import QRLoginDefault, {
  QRLogin, QRLoginError, type CancelReason, type LoginResult, type PublicUser, type ScanDetail, type StartOptions, type UserProfile,
} from "../../../server/web/qrlogin.js";

const options: StartOptions = {
  server: "https://login.example",
  element: "#login",
  onScanned: (user: PublicUser | null, { verificationCode }: ScanDetail) => console.log(user?.display_name, user?.avatar_url, verificationCode?.length),
  onConfirmed: (result) => console.log(result.user.username, result.expires_in),
  onCancelled: ({ reason }) => {
    const why: CancelReason | null = reason;
    console.log("cancelled", why === "wrong_code");
  },
  onExpired: () => console.log("expired"),
  onError: (error) => console.log(error.code, error.status, error instanceof QRLogin.QRLoginError),
  onCode: (code) => console.log(code.url, code.svg.length, code.expiresAt.getTime()),
  onState: (state, { verificationCode, reason }) => {
    if (state === "signed_in") console.log("done", verificationCode, reason);
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

// A site that only knew the first version of the callbacks still type-checks.
QRLogin.start({ onScanned: (user) => console.log(user), onCancelled: () => console.log("cancelled") });

export async function checkSession(accessToken: string): Promise<string> {
  const profile: UserProfile = await QRLogin.me({ server: "https://login.example", accessToken });
  const watch = QRLogin.watchSession({
    accessToken,
    intervalMs: 5000,
    onSignedOut: (error) => console.log(error.code === "token_revoked"),
    onError: (error) => console.log(error.status),
  });
  await watch.check();
  watch.stop();
  return profile.username;
}
