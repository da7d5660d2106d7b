// Entry point of `mock.html` (test builds only): the real UI over the mock backend.
import { emitCameraFailed, emitLinkOpened, emitQrFound, installMockBackend } from "./mock-backend";

declare global {
  interface Window {
    qrloginMock: ReturnType<typeof installMockBackend>;
    qrloginEmitQr: typeof emitQrFound;
    qrloginEmitCameraFailed: typeof emitCameraFailed;
    qrloginOpenLink: typeof emitLinkOpened;
  }
}

window.qrloginMock = installMockBackend(new URLSearchParams(location.search));
window.qrloginEmitQr = emitQrFound;
window.qrloginEmitCameraFailed = emitCameraFailed;
window.qrloginOpenLink = emitLinkOpened;
await import("./main");
