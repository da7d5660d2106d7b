//! [`KeystoreCipher`]: AES-256-GCM under a key generated inside the Android
//! Keystore (alias `qrlogin-session-token`; the key material never enters
//! the app's memory), for [`super::SealedTokenStore`]. Android only.
//!
//! Why JNI with the `jni` crate and not a plugin: the Tauri plugins that
//! reach the Keystore did not fit. `tauri-plugin-keystore` (2.1.0-alpha.2,
//! an alpha) asks for the user's biometric authentication on every access,
//! which would put a prompt in front of every start of the app, and
//! `tauri-plugin-secure-storage` is a small one-person project keeping the
//! values in DataStore preferences with its own Kotlin. The Keystore calls
//! needed here are few and stable since API 23 (`KeyGenParameterSpec`,
//! `KeyGenerator`, `Cipher`), and `jni` 0.21 is the version Tauri's own
//! Android runtime (wry) already links, so nothing new is built.
//!
//! The Keystore needs no `Context`, only the Java VM: the app hands over a
//! function that fetches it from Tauri's JNI handle of its main window
//! (`PlatformWebview::jni_handle`), called on first use from a blocking
//! thread, which is then attached to the VM for each call. The classes used
//! are all framework classes, which the system class loader of an attached
//! native thread finds.
//!
//! This file is type-checked for `aarch64-linux-android` in CI
//! (`scripts/test.d/15-android-check.sh`) but has never run: no device or
//! emulator is reachable from our machines.

use std::sync::OnceLock;

use jni::JNIEnv;
pub use jni::JavaVM;
use jni::objects::{JByteArray, JObject, JString, JValue};

use super::sealed::{CipherError, Sealed, TokenCipher, classify_exception};

const PROVIDER: &str = "AndroidKeyStore";
const ALIAS: &str = "qrlogin-session-token";
const TRANSFORMATION: &str = "AES/GCM/NoPadding";
const TAG_BITS: i32 = 128;
const KEY_BITS: i32 = 256;
/// `KeyProperties.PURPOSE_ENCRYPT | KeyProperties.PURPOSE_DECRYPT`
const PURPOSES: i32 = 1 | 2;
/// `Cipher.ENCRYPT_MODE`, `Cipher.DECRYPT_MODE`
const ENCRYPT_MODE: i32 = 1;
const DECRYPT_MODE: i32 = 2;

type VmSource = Box<dyn Fn() -> Result<JavaVM, String> + Send + Sync>;

/// The Android Keystore as a [`TokenCipher`].
pub struct KeystoreCipher {
    source: VmSource,
    vm: OnceLock<JavaVM>,
}

impl std::fmt::Debug for KeystoreCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoreCipher")
            .field("alias", &ALIAS)
            .finish_non_exhaustive()
    }
}

impl KeystoreCipher {
    /// `vm`: fetches the app's Java VM (called once, on first use).
    pub fn new(vm: impl Fn() -> Result<JavaVM, String> + Send + Sync + 'static) -> Self {
        Self {
            source: Box::new(vm),
            vm: OnceLock::new(),
        }
    }

    fn vm(&self) -> Result<&JavaVM, CipherError> {
        if let Some(vm) = self.vm.get() {
            return Ok(vm);
        }
        let vm = (self.source)().map_err(CipherError::Failed)?;
        Ok(self.vm.get_or_init(|| vm))
    }

    /// Runs `f` on this thread attached to the VM, in a local frame; a Java
    /// exception becomes a [`CipherError`] through [`classify_exception`].
    fn with_env<T>(
        &self,
        f: impl FnOnce(&mut JNIEnv) -> Result<T, Failure>,
    ) -> Result<T, CipherError> {
        let mut env = self
            .vm()?
            .attach_current_thread()
            .map_err(|e| CipherError::Failed(format!("cannot attach to the Java VM: {e}")))?;
        match env.with_local_frame(16, f) {
            Ok(value) => Ok(value),
            Err(Failure::Cipher(e)) => Err(e),
            Err(Failure::Jni(jni::errors::Error::JavaException)) => Err(take_exception(&mut env)),
            Err(Failure::Jni(e)) => Err(CipherError::Failed(e.to_string())),
        }
    }
}

/// A JNI call failed, or the Keystore said something meaningful.
enum Failure {
    Jni(jni::errors::Error),
    Cipher(CipherError),
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Self::Jni(e)
    }
}

impl TokenCipher for KeystoreCipher {
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, CipherError> {
        self.with_env(|env| {
            let key = match existing_key(env)? {
                Some(key) => key,
                None => generate_key(env)?,
            };
            let cipher = cipher(env)?;
            env.call_method(
                &cipher,
                "init",
                "(ILjava/security/Key;)V",
                &[JValue::Int(ENCRYPT_MODE), JValue::Object(&key)],
            )?;
            update_aad(env, &cipher, aad)?;
            let iv = env.call_method(&cipher, "getIV", "()[B", &[])?.l()?;
            let iv = env.convert_byte_array(JByteArray::from(iv))?;
            let ciphertext = do_final(env, &cipher, plaintext)?;
            Ok(Sealed { iv, ciphertext })
        })
    }

    fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CipherError> {
        self.with_env(|env| {
            let Some(key) = existing_key(env)? else {
                return Err(Failure::Cipher(CipherError::KeyLost(format!(
                    "no key {ALIAS:?} in the Android Keystore"
                ))));
            };
            let iv = env.byte_array_from_slice(&sealed.iv)?;
            let spec = env.new_object(
                "javax/crypto/spec/GCMParameterSpec",
                "(I[B)V",
                &[JValue::Int(TAG_BITS), JValue::Object(&iv)],
            )?;
            let cipher = cipher(env)?;
            env.call_method(
                &cipher,
                "init",
                "(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V",
                &[
                    JValue::Int(DECRYPT_MODE),
                    JValue::Object(&key),
                    JValue::Object(&spec),
                ],
            )?;
            update_aad(env, &cipher, aad)?;
            do_final(env, &cipher, &sealed.ciphertext)
        })
    }

    fn describe(&self) -> String {
        "the Android Keystore".into()
    }
}

/// The key under [`ALIAS`], or `None` when there is none.
fn existing_key<'local>(env: &mut JNIEnv<'local>) -> Result<Option<JObject<'local>>, Failure> {
    let provider = env.new_string(PROVIDER)?;
    let keystore = env
        .call_static_method(
            "java/security/KeyStore",
            "getInstance",
            "(Ljava/lang/String;)Ljava/security/KeyStore;",
            &[JValue::Object(&provider)],
        )?
        .l()?;
    env.call_method(
        &keystore,
        "load",
        "(Ljava/security/KeyStore$LoadStoreParameter;)V",
        &[JValue::Object(&JObject::null())],
    )?;
    let alias = env.new_string(ALIAS)?;
    let key = env
        .call_method(
            &keystore,
            "getKey",
            "(Ljava/lang/String;[C)Ljava/security/Key;",
            &[JValue::Object(&alias), JValue::Object(&JObject::null())],
        )?
        .l()?;
    Ok((!key.is_null()).then_some(key))
}

/// A new AES-256 key for GCM without padding, usable without user
/// authentication (the app reads its token at every start).
fn generate_key<'local>(env: &mut JNIEnv<'local>) -> Result<JObject<'local>, Failure> {
    const BUILDER: &str = "android/security/keystore/KeyGenParameterSpec$Builder";
    const RETURNS_BUILDER: &str = "Landroid/security/keystore/KeyGenParameterSpec$Builder;";
    let alias = env.new_string(ALIAS)?;
    let builder = env.new_object(
        BUILDER,
        "(Ljava/lang/String;I)V",
        &[JValue::Object(&alias), JValue::Int(PURPOSES)],
    )?;
    let modes = string_array(env, "GCM")?;
    env.call_method(
        &builder,
        "setBlockModes",
        format!("([Ljava/lang/String;){RETURNS_BUILDER}"),
        &[JValue::Object(&modes)],
    )?;
    let paddings = string_array(env, "NoPadding")?;
    env.call_method(
        &builder,
        "setEncryptionPaddings",
        format!("([Ljava/lang/String;){RETURNS_BUILDER}"),
        &[JValue::Object(&paddings)],
    )?;
    env.call_method(
        &builder,
        "setKeySize",
        format!("(I){RETURNS_BUILDER}"),
        &[JValue::Int(KEY_BITS)],
    )?;
    let spec = env
        .call_method(
            &builder,
            "build",
            "()Landroid/security/keystore/KeyGenParameterSpec;",
            &[],
        )?
        .l()?;
    let (algorithm, provider) = (env.new_string("AES")?, env.new_string(PROVIDER)?);
    let generator = env
        .call_static_method(
            "javax/crypto/KeyGenerator",
            "getInstance",
            "(Ljava/lang/String;Ljava/lang/String;)Ljavax/crypto/KeyGenerator;",
            &[JValue::Object(&algorithm), JValue::Object(&provider)],
        )?
        .l()?;
    env.call_method(
        &generator,
        "init",
        "(Ljava/security/spec/AlgorithmParameterSpec;)V",
        &[JValue::Object(&spec)],
    )?;
    Ok(env
        .call_method(&generator, "generateKey", "()Ljavax/crypto/SecretKey;", &[])?
        .l()?)
}

fn cipher<'local>(env: &mut JNIEnv<'local>) -> Result<JObject<'local>, Failure> {
    let transformation = env.new_string(TRANSFORMATION)?;
    Ok(env
        .call_static_method(
            "javax/crypto/Cipher",
            "getInstance",
            "(Ljava/lang/String;)Ljavax/crypto/Cipher;",
            &[JValue::Object(&transformation)],
        )?
        .l()?)
}

fn update_aad(env: &mut JNIEnv, cipher: &JObject, aad: &[u8]) -> Result<(), Failure> {
    let aad = env.byte_array_from_slice(aad)?;
    env.call_method(cipher, "updateAAD", "([B)V", &[JValue::Object(&aad)])?;
    Ok(())
}

fn do_final(env: &mut JNIEnv, cipher: &JObject, input: &[u8]) -> Result<Vec<u8>, Failure> {
    let input = env.byte_array_from_slice(input)?;
    let output = env
        .call_method(cipher, "doFinal", "([B)[B", &[JValue::Object(&input)])?
        .l()?;
    Ok(env.convert_byte_array(JByteArray::from(output))?)
}

fn string_array<'local>(env: &mut JNIEnv<'local>, only: &str) -> Result<JObject<'local>, Failure> {
    let element = env.new_string(only)?;
    let array = env.new_object_array(1, "java/lang/String", &element)?;
    Ok(JObject::from(array))
}

/// The pending Java exception (cleared), classified.
fn take_exception(env: &mut JNIEnv) -> CipherError {
    let Ok(throwable) = env.exception_occurred() else {
        return CipherError::Failed("a Java exception that cannot be read".into());
    };
    let _ = env.exception_clear();
    let message = java_string(env, &throwable, "getMessage").unwrap_or_default();
    let class = env
        .call_method(&throwable, "getClass", "()Ljava/lang/Class;", &[])
        .and_then(|c| c.l())
        .ok();
    let class = class
        .and_then(|class| java_string(env, &class, "getName"))
        .unwrap_or_else(|| "java.lang.Throwable".into());
    let _ = env.exception_clear();
    classify_exception(&class, &message)
}

/// `obj.method()` for a method returning a (nullable) `String`.
fn java_string(env: &mut JNIEnv, obj: &JObject, method: &str) -> Option<String> {
    let value = env
        .call_method(obj, method, "()Ljava/lang/String;", &[])
        .ok()?
        .l()
        .ok()?;
    if value.is_null() {
        return None;
    }
    let value = JString::from(value);
    let text: String = env.get_string(&value).ok()?.into();
    Some(text)
}
