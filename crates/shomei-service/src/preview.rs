//! The preview of an uploaded PDF's first page (PNG, at most [`PREVIEW_WIDTH`] pixels
//! wide), rendered by hayro (pure Rust, no unsafe code) off the async workers. A file
//! the renderer cannot read, or a panic inside it, is "no preview", never a failure of
//! the service.

/// Width of the preview in pixels (a page narrower than that is shown at 2× at most).
pub const PREVIEW_WIDTH: f32 = 800.0;

/// Renders page 1 of `pdf` to PNG.
pub(crate) fn render_first_page(pdf: Vec<u8>) -> Option<Vec<u8>> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    let pdf = Pdf::new(pdf).ok()?;
    let page = pdf.pages().first()?;
    let (width, height) = page.render_dimensions();
    if !(width.is_finite() && height.is_finite()) || width < 1.0 || height < 1.0 {
        return None;
    }
    let scale = (PREVIEW_WIDTH / width).min(2.0);
    // Bound the pixmap: a page of absurd proportions is not previewed.
    if height * scale > 4.0 * PREVIEW_WIDTH {
        return None;
    }
    let pixmap = hayro::render(
        page,
        &hayro::RenderCache::new(),
        &InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        &hayro::PixmapSettings {
            x_scale: scale,
            y_scale: scale,
            ..Default::default()
        },
    );
    pixmap.into_png().ok()
}
