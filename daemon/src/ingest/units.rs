//! Volume units meters and gateways report in.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Unit {
    /// Litres.
    #[serde(rename = "L", alias = "l")]
    Litre,
    /// Cubic metres.
    #[default]
    #[serde(rename = "m3", alias = "m³")]
    CubicMetre,
    /// US gallons.
    #[serde(rename = "gal")]
    Gallon,
    /// Cubic feet.
    #[serde(rename = "ft3", alias = "ft³")]
    CubicFoot,
    /// Hundreds of cubic feet.
    #[serde(rename = "CCF")]
    HundredCubicFeet,
}

impl Unit {
    pub fn litres(self, value: f64) -> f64 {
        value
            * match self {
                Unit::Litre => 1.0,
                Unit::CubicMetre => 1000.0,
                Unit::Gallon => 3.785_411_784,
                Unit::CubicFoot => 28.316_846_592,
                Unit::HundredCubicFeet => 2_831.684_659_2,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_converts_to_litres() {
        assert_eq!(Unit::Litre.litres(5.0), 5.0);
        assert_eq!(Unit::CubicMetre.litres(1.234), 1234.0);
        assert!((Unit::Gallon.litres(1.0) - 3.785).abs() < 0.001);
        assert!((Unit::CubicFoot.litres(1.0) - 28.317).abs() < 0.001);
        assert!((Unit::HundredCubicFeet.litres(1.0) - 2831.685).abs() < 0.001);
    }
}
