from organizations.vietnamese import fold, name_sort_key, split_name, title_sort_key


def test_fold_removes_diacritics_and_case():
    assert fold("  Nguyễn Văn   ĐỨC ") == "nguyen van duc"
    assert fold("Ưng Hoàng Phúc") == "ung hoang phuc"


def test_split_name_takes_the_last_word_as_given_name():
    assert split_name("Nguyễn Văn An") == ("Nguyễn Văn", "An")
    assert split_name("An") == ("", "An")


def test_names_sort_by_given_name_first():
    names = ["Trần Văn Bình", "Nguyễn Văn An", "Lê Thị Cúc"]
    assert sorted(names, key=name_sort_key) == ["Nguyễn Văn An", "Trần Văn Bình", "Lê Thị Cúc"]


def test_family_and_middle_names_break_ties():
    names = ["Trần Văn An", "Nguyễn Văn An", "Nguyễn An"]
    assert sorted(names, key=name_sort_key) == ["Nguyễn An", "Nguyễn Văn An", "Trần Văn An"]


def test_vietnamese_letters_follow_the_vietnamese_alphabet():
    # a < ă < â ... d < đ < e ... o < ô < ơ ... u < ư: not the order of their code points or of ASCII folding.
    names = ["X Ân", "X Ăn", "X An", "X Đạt", "X Dung", "X Em", "X Ưng", "X Uyên", "X Vân"]
    assert sorted(names, key=name_sort_key) == [
        "X An",
        "X Ăn",
        "X Ân",
        "X Dung",
        "X Đạt",
        "X Em",
        "X Uyên",
        "X Ưng",
        "X Vân",
    ]


def test_tones_only_break_ties_in_dictionary_order():
    # ngang, huyền, hỏi, ngã, sắc, nặng
    names = ["X Bạ", "X Bá", "X Bã", "X Bả", "X Bà", "X Ba", "X Bac"]
    assert sorted(names, key=name_sort_key) == ["X Ba", "X Bà", "X Bả", "X Bã", "X Bá", "X Bạ", "X Bac"]


def test_sort_key_is_ascii_digits_so_any_collation_agrees():
    key = name_sort_key("Nguyễn Thị Ánh Tuyết")
    assert key.isdigit()


def test_titles_sort_word_by_word_with_numbers_in_numeric_order():
    titles = ["Tổ dân phố số 10", "Tổ dân phố số 2", "Tổ dân phố", "Tổ 3", "Đội 1", "Dân quân"]
    assert sorted(titles, key=title_sort_key) == [
        "Dân quân",
        "Đội 1",
        "Tổ 3",
        "Tổ dân phố",
        "Tổ dân phố số 2",
        "Tổ dân phố số 10",
    ]
    assert title_sort_key("Chi bộ 3 phòng chức năng").isdigit()
