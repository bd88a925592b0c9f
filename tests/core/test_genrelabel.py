"""The label the app shows for a track's genre: a near tie reads the same whichever genre is a
hair ahead, and names the genres the filter finds it under."""
from core.genrelabel import genre_label, genres_named, label_of_probs

CLASSES = ["blues", "country", "jazz", "pop"]


def test_a_near_tie_reads_the_same_whichever_genre_leads():
    c1 = label_of_probs(CLASSES, [0.1, 0.35, 0.2, 0.33])  # country just ahead of pop
    c2 = label_of_probs(CLASSES, [0.1, 0.33, 0.2, 0.35])  # pop just ahead of country
    assert c1.uncertain and c2.uncertain
    assert c1.text == c2.text == "uncertain: country or pop"
    assert (c1.genre, c2.genre) == ("country", "pop")  # the leader is still the track's genre
    sure = label_of_probs(CLASSES, [0.02, 0.30, 0.06, 0.62])
    assert not sure.uncertain and sure.text == "pop 62%"


def test_genres_named_reads_back_what_the_label_says():
    assert genres_named(genre_label("jazz", 0.45, "blues", 0.42).text) == ("blues", "jazz")
    assert genres_named(genre_label("jazz", 0.3).text) == ("jazz",)
    assert genres_named(genre_label("jazz", 0.9, "blues", 0.05).text) == ()
    assert genres_named(genre_label("x", 0.9, is_music=False, kind="speech").text) == ()
