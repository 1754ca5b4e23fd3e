#!/usr/bin/env python3
"""Reference for the interest_evolution environment: a line-by-line port of
RecSim's interest-evolution world (google-research/recsim,
recsim/environments/interest_evolution.py, recsim/choice_model.py,
recsim/simulator/environment.py) to the Python standard library, driven by
RecSim's RandomAgent (a uniformly random slate of distinct candidates).

It follows RecSim's own sampling, not recfuse's fixed catalogue and user
population: every episode samples a fresh user and every step fresh
candidate documents (resample_documents=True). It prints the mean return of
an episode (clicked watch time, RecSim's clicked_watchtime_reward) with a
95% confidence interval, to set against recfuse's figure
(tests/conformance/test_environments.cpp prints it).

    python3 tools/reference/interest_evolution_ref.py --episodes 20000 --seed 1
"""

import argparse
import bisect
import math
import random

NUM_FEATURES = 20  # IEvVideo.NUM_FEATURES = IEvUserState.NUM_FEATURES


def linspace(start, stop, num):
    """numpy.linspace: num points, the last exactly `stop`."""
    if num == 1:
        return [float(start)]
    step = (stop - start) / (num - 1)
    return [start + i * step for i in range(num - 1)] + [float(stop)] if num > 0 else []


class IEvVideo:
    def __init__(self, doc_id, features, cluster_id, video_length, quality):
        self.doc_id = doc_id
        self.features = features
        self.cluster_id = cluster_id
        self.video_length = video_length
        self.quality = quality

    def create_observation(self):
        return self.features


class UtilityModelVideoSampler:
    def __init__(self, rng, min_utility=-3.0, max_utility=3.0, video_length=4.0):
        self._rng = rng
        self._doc_count = 0
        self._num_clusters = NUM_FEATURES
        self._video_length = video_length
        trashy = linspace(min_utility, 0, int(self._num_clusters * 0.7))
        nutritious = linspace(0, max_utility, int(self._num_clusters * 0.3))
        self.cluster_means = trashy + nutritious

    def sample_document(self):
        cluster_id = self._rng.randrange(self._num_clusters)
        features = [0.0] * self._num_clusters
        features[cluster_id] = 1.0
        quality_mean = self.cluster_means[cluster_id]
        quality_variance = 0.1  # RecSim passes it to normal() as the scale
        quality = self._rng.gauss(quality_mean, quality_variance)
        doc = IEvVideo(self._doc_count, features, cluster_id, self._video_length, quality)
        self._doc_count += 1
        return doc


class IEvUserState:
    def __init__(self, **features):
        self.__dict__.update(features)
        self.choice_features = {
            'no_click_mass': features['no_click_mass'],
            'min_normalizer': features['min_normalizer'],
        }

    def score_document(self, doc_obs):
        return sum(u * d for u, d in zip(self.user_interests, doc_obs))


class UtilityModelUserSampler:
    def __init__(self, rng, document_quality_factor=1.0, no_click_mass=1.0, min_normalizer=-1.0):
        self._rng = rng
        self._no_click_mass = no_click_mass
        self._min_normalizer = min_normalizer
        self._document_quality_factor = document_quality_factor

    def sample_user(self):
        alpha = 0.9
        utility_range = 1.0 / 3.4
        return IEvUserState(
            user_interests=[self._rng.uniform(-1.0, 1.0) for _ in range(NUM_FEATURES)],
            time_budget=200.0,
            no_click_mass=self._no_click_mass,
            step_penalty=0.5,
            min_normalizer=self._min_normalizer,
            user_quality_factor=0.0,
            document_quality_factor=self._document_quality_factor,
            user_update_alpha=alpha * utility_range)


class MultinomialProportionalChoiceModel:
    def __init__(self, choice_features, rng):
        self._min_normalizer = choice_features.get('min_normalizer')
        self._no_click_mass = choice_features.get('no_click_mass', 0)
        self._rng = rng  # numpy's global generator in RecSim
        self.scores = None
        self.score_no_click = None

    def score_documents(self, user_state, doc_obs):
        all_scores = [user_state.score_document(d) for d in doc_obs] + [self._no_click_mass]
        all_scores = [s - self._min_normalizer for s in all_scores]
        assert all(s >= 0.0 for s in all_scores), 'Normalized scores have non-positive elements.'
        self.scores = all_scores[:-1]
        self.score_no_click = all_scores[-1]

    def choose_item(self):
        all_scores = self.scores + [self.score_no_click]
        total = sum(all_scores)
        # numpy.random.choice(len, p): searchsorted(cumsum(p) / cdf[-1], u, 'right')
        cdf, acc = [], 0.0
        for s in all_scores:
            acc += s / total
            cdf.append(acc)
        cdf = [c / cdf[-1] for c in cdf]
        selected_index = bisect.bisect_right(cdf, self._rng.random())
        if selected_index == len(all_scores) - 1:
            selected_index = None
        return selected_index


class IEvResponse:
    def __init__(self):
        self.clicked = False
        self.watch_time = 0.0


class IEvUserModel:
    def __init__(self, user_sampler, choice_rng, alpha_x_intercept=1.0, alpha_y_intercept=0.3):
        self._user_sampler = user_sampler
        self._user_state = user_sampler.sample_user()
        self._choice_rng = choice_rng  # also RecSim's np.random for the interest flip
        self.choice_model = MultinomialProportionalChoiceModel(
            self._user_state.choice_features, choice_rng)
        self._alpha_x_intercept = alpha_x_intercept
        self._alpha_y_intercept = alpha_y_intercept

    def reset(self):
        self._user_state = self._user_sampler.sample_user()

    def is_terminal(self):
        return self._user_state.time_budget <= 0

    def update_state(self, slate_documents, responses):
        user_state = self._user_state

        def compute_alpha(x, x_intercept, y_intercept):
            return [(-y_intercept / x_intercept) * abs(v) + y_intercept for v in x]

        for doc, response in zip(slate_documents, responses):
            if response.clicked:
                self.choice_model.score_documents(user_state, [doc.create_observation()])
                expected_utility = self.choice_model.scores[0]
                interests = user_state.user_interests
                target = [f - u for f, u in zip(doc.features, interests)]
                mask = doc.features
                alpha = compute_alpha(interests, self._alpha_x_intercept, self._alpha_y_intercept)
                update = [a * m * t for a, m, t in zip(alpha, mask, target)]
                positive_update_prob = sum((u + 1.0) / 2 * m for u, m in zip(interests, mask))
                flip = self._choice_rng.random()
                if flip < positive_update_prob:
                    interests = [u + d for u, d in zip(interests, update)]
                else:
                    interests = [u - d for u, d in zip(interests, update)]
                user_state.user_interests = [min(1.0, max(-1.0, u)) for u in interests]
                received_utility = (user_state.user_quality_factor * expected_utility) + (
                    user_state.document_quality_factor * doc.quality)
                user_state.time_budget -= response.watch_time
                user_state.time_budget += (
                    user_state.user_update_alpha * response.watch_time * received_utility)
                return
        user_state.time_budget -= user_state.step_penalty

    def simulate_response(self, documents):
        responses = [IEvResponse() for _ in documents]
        doc_obs = [doc.create_observation() for doc in documents]
        self.choice_model.score_documents(self._user_state, doc_obs)
        selected_index = self.choice_model.choose_item()
        if selected_index is None:
            return responses
        response = responses[selected_index]
        response.clicked = True
        response.watch_time = min(self._user_state.time_budget,
                                  documents[selected_index].video_length)
        return responses


def clicked_watchtime_reward(responses):
    return sum(r.watch_time for r in responses if r.clicked)


def run_episode(user_model, doc_sampler, agent_rng, num_candidates, slate_size, max_steps):
    """SingleUserEnvironment.reset / step under RandomAgent; returns (return, steps)."""
    user_model.reset()
    candidates = [doc_sampler.sample_document() for _ in range(num_candidates)]
    total, steps = 0.0, 0
    while steps < max_steps:
        doc_ids = list(range(num_candidates))
        agent_rng.shuffle(doc_ids)
        documents = [candidates[i] for i in doc_ids[:slate_size]]
        responses = user_model.simulate_response(documents)
        user_model.update_state(documents, responses)
        total += clicked_watchtime_reward(responses)
        steps += 1
        if user_model.is_terminal():
            break
        candidates = [doc_sampler.sample_document() for _ in range(num_candidates)]
    return total, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--episodes', type=int, default=20000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--num-candidates', type=int, default=10)
    parser.add_argument('--slate-size', type=int, default=2)
    parser.add_argument('--max-steps', type=int, default=5000)
    args = parser.parse_args()

    streams = random.Random(args.seed)
    doc_sampler = UtilityModelVideoSampler(random.Random(streams.getrandbits(64)))
    user_sampler = UtilityModelUserSampler(random.Random(streams.getrandbits(64)))
    user_model = IEvUserModel(user_sampler, random.Random(streams.getrandbits(64)))
    agent_rng = random.Random(streams.getrandbits(64))

    returns, lengths = [], []
    for _ in range(args.episodes):
        ret, steps = run_episode(user_model, doc_sampler, agent_rng, args.num_candidates,
                                 args.slate_size, args.max_steps)
        returns.append(ret)
        lengths.append(steps)
    n = len(returns)
    mean = sum(returns) / n
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (n - 1))
    half = 1.96 * sd / math.sqrt(n)
    print(f'episodes {n}  mean return {mean:.3f}  95% CI [{mean - half:.3f}, {mean + half:.3f}]  '
          f'sd {sd:.3f}  mean length {sum(lengths) / n:.2f}  max length {max(lengths)}')


if __name__ == '__main__':
    main()
