//! Series transforms with several results: `series_fft`, `series_ifft` (the discrete Fourier
//! transform and its inverse, through `rustfft`) and `series_fit_poly` (least-squares polynomial
//! regression). Each is bound to one dynamic bag that `extend` splits into Kusto's columns
//! (`series_fft_y_real`, `series_fit_poly_y_coefficients`, ...), as [`super::series`] does for
//! `series_fit_line`.
//!
//! Elements that are not numbers (and nulls) count as 0, as in the other series functions; an
//! argument that is not an array gives null.

use super::array::{Out, V};
use super::series::{f_arr_plain, obj, series};
use crate::schema::KqlType;
use crate::value::dynamic as dj;
use rustfft::num_complex::Complex;

/// The fields of `series_fft` and `series_ifft`.
pub(super) const FFT: &[(&str, KqlType)] = &[("real", KqlType::Dynamic), ("imag", KqlType::Dynamic)];

/// The fields of `series_fit_poly`.
pub(super) const FIT_POLY: &[(&str, KqlType)] = &[
    ("rsquare", KqlType::Real),
    ("coefficients", KqlType::Dynamic),
    ("variance", KqlType::Real),
    ("rvariance", KqlType::Real),
    ("poly_fit", KqlType::Dynamic),
];

/// A numeric series argument with non-numbers as 0, or `None` when it is not an array.
fn zeros_for_nulls(v: V) -> Option<Vec<f64>> {
    Some(series(v)?.into_iter().map(|x| x.unwrap_or(0.0)).collect())
}

/// The transform of `real + i*imag` (imag optional; a shorter one is padded with zeros, a longer
/// one cut). The forward transform is not scaled; the inverse is scaled by `1/n`, so that
/// `series_ifft(series_fft(x))` is `x`.
fn transform(a: &[V], inverse: bool) -> Option<String> {
    let re = zeros_for_nulls(a[0])?;
    let im = match a.get(1) {
        Some(v) => zeros_for_nulls(*v)?,
        None => Vec::new(),
    };
    let n = re.len();
    let mut buf: Vec<Complex<f64>> =
        re.iter().enumerate().map(|(i, r)| Complex::new(*r, im.get(i).copied().unwrap_or(0.0))).collect();
    if n > 0 {
        let mut planner = rustfft::FftPlanner::new();
        let fft = if inverse { planner.plan_fft_inverse(n) } else { planner.plan_fft_forward(n) };
        fft.process(&mut buf);
        if inverse {
            let scale = 1.0 / n as f64;
            buf.iter_mut().for_each(|c| *c *= scale);
        }
    }
    let real: Vec<f64> = buf.iter().map(|c| c.re).collect();
    let imag: Vec<f64> = buf.iter().map(|c| c.im).collect();
    Some(obj(FFT, &[f_arr_plain(&real), f_arr_plain(&imag)]))
}

/// `series_fft(x_real [, x_imaginary])`.
pub(super) fn s_fft(a: &[V]) -> Out {
    transform(a, false).into()
}

/// `series_ifft(x_real [, x_imaginary])`.
pub(super) fn s_ifft(a: &[V]) -> Out {
    transform(a, true).into()
}

/// The least-squares coefficients (lowest power first) of a polynomial of `degree` through the
/// points, by Householder QR of the Vandermonde matrix (stabler than the normal equations at
/// high degrees). Columns that are linearly dependent (fewer distinct x than coefficients) get 0.
fn least_squares(x: &[f64], y: &[f64], degree: usize) -> Vec<f64> {
    let (m, k) = (y.len(), degree + 1);
    // column-major Vandermonde matrix and the right-hand side
    let mut a: Vec<Vec<f64>> = (0..k).map(|p| x.iter().map(|xi| xi.powi(p as i32)).collect()).collect();
    let mut b = y.to_vec();
    let mut rank_ok = vec![true; k];
    for j in 0..k.min(m) {
        let norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = a[j].iter().map(|v| v.abs()).fold(0.0, f64::max).max(1.0);
        if norm <= 1e-12 * scale {
            rank_ok[j] = false;
            continue;
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|t| t * t).sum();
        if vv == 0.0 {
            continue;
        }
        let reflect = |col: &mut [f64]| {
            let d: f64 = v.iter().zip(col.iter()).map(|(p, q)| p * q).sum::<f64>() * 2.0 / vv;
            col.iter_mut().zip(&v).for_each(|(c, p)| *c -= d * p);
        };
        for col in a.iter_mut().skip(j) {
            reflect(&mut col[j..]);
        }
        reflect(&mut b[j..]);
    }
    // back substitution over the upper triangle
    let mut c = vec![0.0; k];
    for j in (0..k.min(m)).rev() {
        if !rank_ok[j] || a[j][j] == 0.0 {
            continue;
        }
        let s: f64 = (j + 1..k.min(m)).map(|p| a[p][j] * c[p]).sum();
        c[j] = (b[j] - s) / a[j][j];
    }
    c
}

/// `series_fit_poly(y [, x [, degree]])`: x defaults to `1..n`, degree to 1.
pub(super) fn s_fit_poly(a: &[V]) -> Out {
    (|| {
        let y = zeros_for_nulls(a[0])?;
        let n = y.len();
        let x = match a.get(1) {
            Some(V::Null) | None => (1..=n).map(|i| i as f64).collect(),
            Some(v) => {
                let x = zeros_for_nulls(*v)?;
                if x.len() != n {
                    return None;
                }
                x
            }
        };
        let degree = match a.get(2) {
            None | Some(V::Null) => 1,
            Some(V::I(d)) if (0..=32).contains(d) => *d as usize,
            Some(V::F(d)) if (0.0..=32.0).contains(d) => *d as usize,
            _ => return None,
        };
        if n == 0 {
            return None;
        }
        let c = least_squares(&x, &y, degree);
        let fit: Vec<f64> = x.iter().map(|xi| c.iter().rev().fold(0.0, |acc, ci| acc * xi + ci)).collect();
        let mean = y.iter().sum::<f64>() / n as f64;
        let denom = if n > 1 { (n - 1) as f64 } else { 1.0 };
        let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / denom;
        let rvar = y.iter().zip(&fit).map(|(v, f)| (v - f) * (v - f)).sum::<f64>() / denom;
        let rsq = if var == 0.0 { 1.0 } else { 1.0 - rvar / var };
        let highest_first: Vec<f64> = c.iter().rev().copied().collect();
        let parts = [
            dj::json_from_f64(rsq),
            f_arr_plain(&highest_first),
            dj::json_from_f64(var),
            dj::json_from_f64(rvar),
            f_arr_plain(&fit),
        ];
        Some(obj(FIT_POLY, &parts))
    })()
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(o: Out) -> String {
        match o {
            Out::S(s) => s,
            _ => panic!("no value"),
        }
    }

    #[test]
    fn fft_of_an_impulse_and_the_round_trip() {
        let f = text(s_fft(&[V::S("[1,0,0,0]")]));
        let v: serde_json::Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["real"], serde_json::json!([1.0, 1.0, 1.0, 1.0]));
        assert_eq!(v["imag"], serde_json::json!([0.0, 0.0, 0.0, 0.0]));
        // a sine of period 4: energy at bins 1 and 3, with the forward sign convention e^{-2πikn/N}
        let f = text(s_fft(&[V::S("[0,1,0,-1]")]));
        let v: serde_json::Value = serde_json::from_str(&f).unwrap();
        let im: Vec<f64> = v["imag"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!((im[1] + 2.0).abs() < 1e-12 && (im[3] - 2.0).abs() < 1e-12, "{im:?}");
        let re = v["real"].to_string();
        let im = v["imag"].to_string();
        let back: serde_json::Value = serde_json::from_str(&text(s_ifft(&[V::S(&re), V::S(&im)]))).unwrap();
        let r: Vec<f64> = back["real"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        for (a, b) in r.iter().zip([0.0, 1.0, 0.0, -1.0]) {
            assert!((a - b).abs() < 1e-12);
        }
        assert!(matches!(s_fft(&[V::S("\"text\"")]), Out::Null));
    }

    #[test]
    fn fit_poly_recovers_a_polynomial_and_matches_fit_line() {
        // y = 2x² - 3x + 1 at x = 0..5
        let y = "[1,0,3,10,21,36]";
        let x = "[0,1,2,3,4,5]";
        let v: serde_json::Value = serde_json::from_str(&text(s_fit_poly(&[V::S(y), V::S(x), V::I(2)]))).unwrap();
        let c: Vec<f64> = v["coefficients"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        for (a, b) in c.iter().zip([2.0, -3.0, 1.0]) {
            assert!((a - b).abs() < 1e-9, "{c:?}");
        }
        assert!((v["rsquare"].as_f64().unwrap() - 1.0).abs() < 1e-12);
        // degree 1 over the default x is series_fit_line
        let v: serde_json::Value = serde_json::from_str(&text(s_fit_poly(&[V::S("[2,4,5,9]")]))).unwrap();
        let c: Vec<f64> = v["coefficients"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!((c[0] - 2.2).abs() < 1e-9 && (c[1] + 0.5).abs() < 1e-9, "{c:?}");
        // too few points for the degree: the free coefficients are 0, the fit still passes through them
        let v: serde_json::Value = serde_json::from_str(&text(s_fit_poly(&[V::S("[3]"), V::Null, V::I(3)]))).unwrap();
        assert_eq!(v["poly_fit"], serde_json::json!([3.0]));
    }
}
