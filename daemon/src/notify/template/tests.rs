use super::*;

fn realistic(language: Language) -> Values {
    match language {
        Language::ZhCn => Values {
            household: "h0317".into(),
            name: "王秀英".into(),
            summary: "自09:40起未用水（5小时10分钟）。该住户平时在10:00前后最长约3小时20分钟不用水，已超出。".into(),
            since: "昨天21:30".into(),
            link: "https://ww.example.cn/c/7Kx2Qp".into(),
            by: "李敏".into(),
        },
        Language::En => Values {
            household: "h0317".into(),
            name: "Margaret Wilson".into(),
            summary: "No water used for 5 h 10 min since 09:40; this household's longest usual gap after 10:00 is 3 h 20 min, so this is unusual.".into(),
            since: "21:30 yesterday".into(),
            link: "https://ww.example.org/c/7Kx2Qp".into(),
            by: "Sam Patel".into(),
        },
    }
}

#[test]
fn every_default_rendered_with_realistic_values_fits_one_sms() {
    let templates = Templates::default();
    for language in [Language::ZhCn, Language::En] {
        let values = realistic(language);
        for reason in Reason::ALL {
            let (subject, text) = templates.render(reason, language, &values);
            assert!(!subject.is_empty() && !subject.contains('{'), "{subject}");
            assert!(!text.contains('{'), "{text}");
            assert_eq!(
                sms_segments(&text),
                1,
                "{} {} is {} units: {text}",
                language.as_str(),
                reason.as_str(),
                sms_units(&text)
            );
            for must in [&values.link, &values.name, &values.household] {
                if reason == Reason::Reassurance {
                    // Nothing to act on: the name and the time only.
                    assert!(
                        text.contains(values.name.as_str()) && text.contains(values.since.as_str()),
                        "{text}"
                    );
                    continue;
                }
                if reason != Reason::ResidentCheck || must != &values.household {
                    let present = text.contains(must.as_str());
                    let optional = reason == Reason::AllClear && must == &values.link;
                    assert!(present || optional, "{must} missing from {text}");
                }
            }
        }
    }
}

#[test]
fn a_long_summary_is_cut_with_an_ellipsis_and_a_short_one_is_kept_whole() {
    let templates = Templates::default();
    let mut values = realistic(Language::ZhCn);
    let (_, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
    assert!(
        text.starts_with("王秀英（h0317）自09:40起未用水（5小时"),
        "{text}"
    );
    assert!(text.contains('…'), "{text}");
    assert!(text.ends_with("请尽快上门查看：https://ww.example.cn/c/7Kx2Qp"));
    assert!(sms_units(&text) <= 70 && sms_units(&text) >= 65, "{text}");

    values.summary = "今天08:00起持续用水6小时。".into();
    let (_, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
    assert_eq!(
        text,
        "王秀英（h0317）今天08:00起持续用水6小时。请尽快上门查看：https://ww.example.cn/c/7Kx2Qp"
    );

    let values = realistic(Language::En);
    let (_, text) = templates.render(Reason::CaseOpened, Language::En, &values);
    assert!(
        is_gsm7(&text) && text.contains("...") && text.len() <= 160,
        "{text}"
    );
}

#[test]
fn sms_length_counts_gsm7_septets_and_ucs2_units() {
    assert_eq!(sms_units("abc"), 3);
    assert_eq!(sms_units("a€"), 3);
    assert_eq!(sms_units("用水"), 2);
    assert_eq!(sms_segments(&"a".repeat(160)), 1);
    assert_eq!(sms_segments(&"a".repeat(161)), 2);
    assert_eq!(sms_segments(&"水".repeat(70)), 1);
    assert_eq!(sms_segments(&"水".repeat(71)), 2);
    assert_eq!(sms_segments(&"水".repeat(135)), 3);
}

#[test]
fn overrides_replace_defaults_and_unknown_placeholders_are_reported() {
    let config: TemplatesConfig = toml::from_str(
        "[\"zh-CN\".case_opened]\ntext = \"{name}家需要查看：{link}\"\n\
         [en.reminder]\nsubject = \"Hi {nmae}\"\n\
         [fr.all_clear]\ntext = \"ok\"\n\
         [en.opened]\ntext = \"x\"\n",
    )
    .unwrap();
    let problems = config.problems();
    let paths: Vec<_> = problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["en.opened", "en.reminder.subject", "fr"]);
    assert!(problems[1].1.contains("`{nmae}`"), "{}", problems[1].1);
    assert!(Templates::from_config(&config).is_err());

    let config: TemplatesConfig =
        toml::from_str("[\"zh-CN\".case_opened]\ntext = \"{name}家需要查看：{link}\"\n").unwrap();
    let templates = Templates::from_config(&config).unwrap();
    let values = realistic(Language::ZhCn);
    let (subject, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
    assert_eq!(text, "王秀英家需要查看：https://ww.example.cn/c/7Kx2Qp");
    assert_eq!(subject, "需要查看：王秀英（h0317）");
}

#[test]
fn substitution_leaves_json_braces_and_unknown_names_alone() {
    let out = substitute("{\"to\":\"{to}\",\"x\":{other}}", |n| {
        (n == "to").then(|| "+86".to_owned())
    });
    assert_eq!(out, "{\"to\":\"+86\",\"x\":{other}}");
    assert_eq!(unknown_placeholders("{\"a\":1} {to} {tx}", &["to"]), ["tx"]);
}
