//! Photos sent with reports and steps: each is decoded whole (JPEG, PNG or WebP, by the
//! `image` crate) before anything is stored, its size in pixels read from its header first so
//! that a small file that unpacks to gigabytes is refused without being unpacked, and its
//! type taken from what it decodes as, never from what the client said. Reports without an
//! account also pay their photos' bytes from two quotas (per address, and all addresses
//! together) in `Limits`. The bytes are stored as sent: metadata such as EXIF is kept (see
//! `docs/architecture.md`, "Photos").

use crate::routes::cases::PhotoIn;
use crate::{ApiError, AppState};
use axum::http::StatusCode;
use image::{ImageDecoder, ImageFormat, ImageReader};
use shezhi_store::cases::Photo;

fn invalid(n: usize, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_photo",
        format!("第 {n} 张照片{}", zh.into()),
        format!("photo {n} {}", en.into()),
    )
}

/// The media type of a format accepted for photos.
pub fn media_type(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::Png => Some("image/png"),
        ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

/// Check that `bytes` (photo number `n`, from 1) is one whole JPEG, PNG or WebP image of at
/// most `max_pixels`, and answer its media type.
pub fn decode(n: usize, bytes: &[u8], max_pixels: u64) -> Result<&'static str, ApiError> {
    let not_image = || {
        invalid(
            n,
            "不是 JPEG、PNG 或 WebP 图片",
            "is not a JPEG, PNG or WebP image",
        )
    };
    let format = image::guess_format(bytes).map_err(|_| not_image())?;
    let media = media_type(format).ok_or_else(not_image)?;
    let broken = |e: image::ImageError| {
        invalid(
            n,
            "已损坏或不完整，无法解码",
            format!("cannot be decoded ({e}); it is damaged or cut off"),
        )
    };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(broken)?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels == 0 || pixels > max_pixels {
        return Err(invalid(
            n,
            format!("为 {w}×{h} 像素，超过上限 {max_pixels} 像素"),
            format!("has {w}×{h} pixels, more than the {max_pixels} allowed"),
        ));
    }
    image::DynamicImage::from_decoder(decoder).map_err(broken)?;
    Ok(media)
}

/// Photos from a JSON body, each checked (count, size, then decoded whole on a blocking
/// thread, a few at a time) and typed by what it decodes as.
pub async fn checked(s: &AppState, list: &[PhotoIn]) -> Result<Vec<Photo>, ApiError> {
    let mut photos = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let bytes = crate::base64::decode(&p.data_base64)
            .ok_or_else(|| invalid(i + 1, "的数据须为 base64 编码", "must be base64 data"))?;
        photos.push(Photo {
            content_type: p.content_type.clone(),
            bytes,
        });
    }
    // Count, stated type and size first: nothing is decoded for a report refused anyway. The
    // stated type must be one accepted, but the type stored is what the bytes decode as.
    shezhi_store::cases::check_photo_sizes(&photos)?;
    if photos.is_empty() {
        return Ok(photos);
    }
    let _permit = s
        .limits
        .photo_decoders
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("the photo decoders are closed".into()))?;
    let max_pixels = s.limits.photo_max_pixels;
    let task = tokio::task::spawn_blocking(move || {
        for (i, p) in photos.iter_mut().enumerate() {
            p.content_type = decode(i + 1, &p.bytes, max_pixels)?.to_string();
        }
        Ok::<_, ApiError>(photos)
    });
    task.await
        .map_err(|e| ApiError::Internal(format!("photo decoding: {e}")))?
}

/// Bytes of photos counted against the quotas of reports without an account; given back by
/// [`QuotaTaken::give_back`] when the report is not made.
#[derive(Debug)]
pub struct QuotaTaken {
    address: Option<String>,
    bytes: u64,
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Take `photos`' bytes from the anonymous quotas when the caller has no account (staff and
/// signed-in residents are not counted). Over a quota nothing is taken and the answer is
/// `429 photo_quota_exceeded`: the report is not made, and the message tells the reporter
/// to send it again without photos or later.
pub fn take_quota(
    s: &AppState,
    signed_in: bool,
    ip: Option<&str>,
    photos: &[Photo],
) -> Result<QuotaTaken, ApiError> {
    let bytes: u64 = photos.iter().map(|p| p.bytes.len() as u64).sum();
    if signed_in || bytes == 0 {
        return Ok(QuotaTaken {
            address: None,
            bytes: 0,
        });
    }
    let now = s.clock.now_ms();
    let address = ip.unwrap_or("unknown").to_string();
    let (per_address, total) = (
        &s.limits.anonymous_photo_bytes_address,
        &s.limits.anonymous_photo_bytes_total,
    );
    let refused = |zh: String, en: String| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "photo_quota_exceeded",
            format!("{zh}。本次反映未提交：请去掉照片后重新提交，或稍后再试"),
            format!("{en}. This report was NOT submitted: send it again without photos, or later"),
        )
    };
    if !per_address.take(&address, bytes, now) {
        let hours = per_address.window_ms() as f64 / 3_600_000.0;
        return Err(refused(
            format!(
                "未登录时每个网络地址 {hours} 小时内最多上传 {} 照片",
                mb(per_address.limit())
            ),
            format!(
                "without an account one address may upload at most {} of photos in {hours} h",
                mb(per_address.limit())
            ),
        ));
    }
    if !total.take("all", bytes, now) {
        per_address.give_back(&address, bytes, now);
        let hours = total.window_ms() as f64 / 3_600_000.0;
        return Err(refused(
            format!(
                "未登录用户 {hours} 小时内上传的照片已达全站上限 {}",
                mb(total.limit())
            ),
            format!(
                "reports without an account have used up the site's {} of photos for {hours} h",
                mb(total.limit())
            ),
        ));
    }
    Ok(QuotaTaken {
        address: Some(address),
        bytes,
    })
}

impl QuotaTaken {
    /// Give the bytes back (the report they paid for was refused or had been made before).
    pub fn give_back(self, s: &AppState) {
        if let Some(address) = self.address {
            let now = s.clock.now_ms();
            s.limits
                .anonymous_photo_bytes_address
                .give_back(&address, self.bytes, now);
            s.limits
                .anonymous_photo_bytes_total
                .give_back("all", self.bytes, now);
        }
    }
}
